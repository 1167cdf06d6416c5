namespace ShieldCluster.Server.Grpc;

/// <summary>
/// The addresses Kestrel binds: the HTTP endpoint's URLs as configured and, next to each, the gRPC
/// port on the same host. Both go through Kestrel's URL binding (no explicit <c>Listen</c>, which
/// would make Kestrel ignore the configured URLs), and the gRPC port's endpoints are switched to
/// HTTP/2 only (cleartext HTTP/2 needs prior knowledge) by their port.
/// </summary>
public static class GrpcEndpoints
{
    /// <summary>
    /// <paramref name="httpUrls"/> (separated by <c>;</c>) and one <c>http://host:grpcPort</c> per
    /// distinct host among them; loopback when no URL names a TCP host (a Unix socket, say).
    /// </summary>
    public static string Compose(string httpUrls, int grpcPort)
    {
        var urls = Split(httpUrls);
        var grpc = new List<string>();
        foreach (var url in urls)
        {
            if (TryParse(url) is { IsUnixPipe: false } address)
            {
                var candidate = $"http://{address.Host}:{grpcPort}";
                if (!grpc.Contains(candidate, StringComparer.OrdinalIgnoreCase))
                {
                    grpc.Add(candidate);
                }
            }
        }

        if (grpc.Count == 0)
        {
            grpc.Add($"http://127.0.0.1:{grpcPort}");
        }

        return string.Join(';', urls.Concat(grpc));
    }

    /// <summary>The TCP ports among <paramref name="httpUrls"/>, with the URL that names each.</summary>
    public static IEnumerable<(string Url, int Port)> Ports(string httpUrls) =>
        Split(httpUrls).Select(url => (url, Address: TryParse(url)))
            .Where(u => u.Address is { IsUnixPipe: false })
            .Select(u => (u.url, u.Address!.Port));

    private static string[] Split(string urls) =>
        urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static BindingAddress? TryParse(string url)
    {
        try
        {
            return BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            // Kestrel reports the malformed URL when it binds.
            return null;
        }
    }
}
