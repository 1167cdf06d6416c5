namespace ShieldCluster.Server.Http;

/// <summary>
/// A refusal with its status code and a message fit for the client. Thrown anywhere in request
/// handling and turned into a JSON <c>{"error": ...}</c> response in one place,
/// <see cref="ErrorHandlingMiddleware"/>.
/// </summary>
public sealed class ApiException(int statusCode, string message, int? retryAfterSeconds = null) : Exception(message)
{
    /// <summary>The HTTP status code.</summary>
    public int StatusCode { get; } = statusCode;

    /// <summary>Seconds for a <c>Retry-After</c> header, if any.</summary>
    public int? RetryAfterSeconds { get; } = retryAfterSeconds;

    /// <summary>400: the request is malformed.</summary>
    public static ApiException BadRequest(string message) => new(StatusCodes.Status400BadRequest, message);

    /// <summary>404: no such thing.</summary>
    public static ApiException NotFound(string message) => new(StatusCodes.Status404NotFound, message);
}
