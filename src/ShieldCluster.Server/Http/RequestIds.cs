namespace ShieldCluster.Server.Http;

/// <summary>
/// Request ids: the client's <c>X-Request-Id</c> when it sent a sane one (at most 128 visible
/// ASCII characters), otherwise a new one; echoed on every response and in every log line.
/// </summary>
public static class RequestIds
{
    /// <summary>The header's name.</summary>
    public const string Header = "X-Request-Id";

    /// <summary>Picks the request's id and stores it as the trace identifier.</summary>
    public static string Assign(HttpContext context)
    {
        var sent = context.Request.Headers[Header].ToString();
        var id = IsAcceptable(sent) ? sent : Guid.CreateVersion7().ToString("N");
        context.TraceIdentifier = id;
        return id;
    }

    /// <summary>Sets the response header.</summary>
    public static void Apply(HttpContext context) => context.Response.Headers[Header] = context.TraceIdentifier;

    private static bool IsAcceptable(string id) => id.Length is > 0 and <= 128 && id.All(c => c is > ' ' and <= '~');
}
