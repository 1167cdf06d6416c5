using System.Globalization;
using Grpc.Core;
using Grpc.Core.Interceptors;
using ShieldCluster.Server.Http;

namespace ShieldCluster.Server.Grpc;

/// <summary>
/// Maps every failure of a gRPC call to a status, in one place, as <see cref="ErrorHandlingMiddleware"/>
/// does for HTTP: an <see cref="ApiException"/> by its HTTP status (400 InvalidArgument, 401
/// Unauthenticated, 403 PermissionDenied, 404 NotFound, 413 and 429 ResourceExhausted, 503
/// Unavailable), with <c>retry-after</c> (seconds) in the trailers when it has one; an unavailable
/// cluster as Unavailable; anything else is a defect: logged with the request id, Internal.
/// </summary>
public sealed partial class GrpcErrorInterceptor(ILogger<GrpcErrorInterceptor> logger) : Interceptor
{
    /// <summary>The trailer that carries Retry-After's seconds.</summary>
    public const string RetryAfter = "retry-after";

    /// <inheritdoc />
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (ApiException ex)
        {
            var trailers = new Metadata();
            if (ex.RetryAfterSeconds is { } seconds)
            {
                trailers.Add(RetryAfter, seconds.ToString(CultureInfo.InvariantCulture));
            }

            throw new RpcException(new Status(ToStatusCode(ex.StatusCode), ex.Message), trailers);
        }
        catch (RpcException)
        {
            throw;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
        }
        catch (Exception ex) when (ErrorHandlingMiddleware.IsUnavailable(ex))
        {
            Log.Unavailable(logger, ex, RequestId(context));
            throw new RpcException(new Status(StatusCode.Unavailable, "the service is temporarily unavailable"), new Metadata { { RetryAfter, "1" } });
        }
        catch (Exception ex)
        {
            var id = RequestId(context);
            Log.Unhandled(logger, ex, id);
            throw new RpcException(new Status(StatusCode.Internal, $"internal error (request id {id})"));
        }
    }

    /// <summary>The gRPC status code for an HTTP status code.</summary>
    public static StatusCode ToStatusCode(int httpStatus) => httpStatus switch
    {
        StatusCodes.Status400BadRequest => StatusCode.InvalidArgument,
        StatusCodes.Status401Unauthorized => StatusCode.Unauthenticated,
        StatusCodes.Status403Forbidden => StatusCode.PermissionDenied,
        StatusCodes.Status404NotFound => StatusCode.NotFound,
        StatusCodes.Status409Conflict => StatusCode.AlreadyExists,
        StatusCodes.Status413PayloadTooLarge or StatusCodes.Status429TooManyRequests => StatusCode.ResourceExhausted,
        StatusCodes.Status503ServiceUnavailable => StatusCode.Unavailable,
        >= 400 and < 500 => StatusCode.FailedPrecondition,
        _ => StatusCode.Internal,
    };

    private static string RequestId(ServerCallContext context)
    {
        try
        {
            return context.GetHttpContext().TraceIdentifier;
        }
        catch (InvalidOperationException)
        {
            // A call hosted outside ASP.NET Core (unit tests) has no HttpContext.
            return "-";
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Unhandled failure in gRPC call {RequestId}")]
        public static partial void Unhandled(ILogger logger, Exception exception, string requestId);

        [LoggerMessage(2, LogLevel.Warning, "Cluster unavailable for gRPC call {RequestId}")]
        public static partial void Unavailable(ILogger logger, Exception exception, string requestId);
    }
}
