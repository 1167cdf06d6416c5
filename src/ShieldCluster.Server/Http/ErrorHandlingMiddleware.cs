using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;

namespace ShieldCluster.Server.Http;

/// <summary>
/// Maps every failure of request handling to a status code and a JSON error body, in one place:
/// <see cref="ApiException"/> as it says, malformed HTTP as its status, an unavailable cluster as
/// 503. Anything else is a defect: logged with the request id and answered 500.
/// </summary>
public sealed partial class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> logger)
{
    /// <summary>Runs the rest of the pipeline and maps its failures.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (ApiException ex)
        {
            await ErrorResponses.WriteAsync(context, ex.StatusCode, ex.Message, ex.RetryAfterSeconds);
        }
        catch (BadHttpRequestException ex)
        {
            var message = ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? "request body is larger than the limit" : ex.Message;
            await ErrorResponses.WriteAsync(context, ex.StatusCode, message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            Log.Unavailable(logger, ex, context.TraceIdentifier);
            await ErrorResponses.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "the service is temporarily unavailable", 1);
        }
        catch (Exception ex)
        {
            Log.Unhandled(logger, ex, context.TraceIdentifier);
            await ErrorResponses.WriteAsync(context, StatusCodes.Status500InternalServerError, $"internal error (request id {context.TraceIdentifier})");
        }
    }

    // Grain calls that time out or find no silo (OrleansException covers SiloUnavailableException
    // and message rejections) are the cluster's trouble, not the client's: 503, try again.
    internal static bool IsUnavailable(Exception ex) => ex is TimeoutException or OrleansException;

    /// <summary>Turns empty error statuses from routing (404, 405) into JSON error bodies.</summary>
    public static async Task WriteStatusCodeBodyAsync(StatusCodeContext statusContext)
    {
        var context = statusContext.HttpContext;
        var message = context.Response.StatusCode switch
        {
            StatusCodes.Status404NotFound => $"no route for {context.Request.Method} {context.Request.Path}",
            StatusCodes.Status405MethodNotAllowed => $"method {context.Request.Method} is not allowed on {context.Request.Path}",
            var status => ReasonPhrases.GetReasonPhrase(status),
        };
        await ErrorResponses.WriteAsync(context, context.Response.StatusCode, message);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Unhandled failure in request {RequestId}")]
        public static partial void Unhandled(ILogger logger, Exception exception, string requestId);

        [LoggerMessage(2, LogLevel.Warning, "Cluster unavailable for request {RequestId}")]
        public static partial void Unavailable(ILogger logger, Exception exception, string requestId);
    }
}
