using System.Globalization;

namespace ShieldCluster.Server.Http;

/// <summary>
/// Triton's binary tensor extension of the HTTP protocol: with an
/// <c>Inference-Header-Content-Length</c> header a body (request or response) is a JSON header of
/// that many bytes followed by raw tensor bytes, sized by each tensor's <c>binary_data_size</c>.
/// </summary>
public static class BinaryTensors
{
    /// <summary>The header that gives the JSON header's length.</summary>
    public const string Header = "Inference-Header-Content-Length";

    /// <summary>
    /// The JSON header's length from <paramref name="request"/>'s <see cref="Header"/>; null when the
    /// request has none (plain JSON); 400 when it is not one non-negative integer.
    /// </summary>
    public static int? HeaderLength(HttpRequest request)
    {
        var values = request.Headers[Header];
        if (values.Count == 0)
        {
            return null;
        }

        if (values.Count > 1 || !int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            throw ApiException.BadRequest($"{Header} must be one non-negative integer (the JSON header's length in bytes)");
        }

        return length;
    }
}
