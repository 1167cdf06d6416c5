using System.Net;
using System.Text.Json;

namespace ShieldCluster.Cli.Admin;

/// <summary>A successful answer of the admin API: its status and its body as the server sent it.</summary>
internal sealed record AdminAnswer(HttpStatusCode Status, string Body)
{
    /// <summary>The body parsed as JSON; a body that is not JSON is a server failure (exit 6).</summary>
    public JsonDocument Parse()
    {
        try
        {
            return JsonDocument.Parse(Body);
        }
        catch (JsonException e)
        {
            throw new AdminApiException(ExitCodes.ServerUnavailable, $"the server answered {(int)Status} with a body that is not JSON: {e.Message}", e);
        }
    }
}
