using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using ShieldCluster.Server.Grpc;
using ShieldCluster.Server.Http;

namespace ShieldCluster.Server.Tests;

/// <summary>The one place where failures of gRPC calls become status codes.</summary>
public class GrpcErrorInterceptorTests
{
    private readonly GrpcErrorInterceptor _interceptor = new(NullLogger<GrpcErrorInterceptor>.Instance);

    public static TheoryData<Exception, StatusCode, string?> Failures => new()
    {
        { ApiException.BadRequest("input 'input' has shape [1]"), StatusCode.InvalidArgument, null },
        { new ApiException(401, "unknown API key"), StatusCode.Unauthenticated, null },
        { new ApiException(403, "client is blocked"), StatusCode.PermissionDenied, null },
        { ApiException.NotFound("model 'x' not found"), StatusCode.NotFound, null },
        { new ApiException(429, "rate limit exceeded", 7), StatusCode.ResourceExhausted, "7" },
        { new ApiException(503, "shedding", 2), StatusCode.Unavailable, "2" },
        // Load shedding reaches the front ends as an OrleansException (the inference grain's mapping).
        { new OrleansException("the model's queue holds 256 items already; retry shortly"), StatusCode.Unavailable, "1" },
        { new TimeoutException("grain call timed out"), StatusCode.Unavailable, "1" },
        { new InvalidOperationException("a defect"), StatusCode.Internal, null },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task Failure_MapsToItsStatus_WithRetryAfterWhenItHasOne(Exception failure, StatusCode expected, string? retryAfter)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _interceptor.UnaryServerHandler<string, string>("request", new FakeCallContext(), (_, _) => throw failure));
        Assert.Equal(expected, error.StatusCode);
        Assert.Equal(retryAfter, error.Trailers.GetValue(GrpcErrorInterceptor.RetryAfter));
        if (failure is ApiException)
        {
            Assert.Equal(failure.Message, error.Status.Detail);
        }
        else
        {
            Assert.DoesNotContain(failure.Message, error.Status.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RpcException_PassesThroughUnchanged()
    {
        var thrown = new RpcException(new Status(StatusCode.OutOfRange, "as thrown"));
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _interceptor.UnaryServerHandler<string, string>("request", new FakeCallContext(), (_, _) => throw thrown));
        Assert.Same(thrown, error);
    }

    private sealed class FakeCallContext : ServerCallContext
    {
        protected override string MethodCore => "/inference.GRPCInferenceService/ModelInfer";

        protected override string HostCore => "localhost";

        protected override string PeerCore => "ipv4:127.0.0.1:1";

        protected override DateTime DeadlineCore => DateTime.MaxValue;

        protected override Metadata RequestHeadersCore { get; } = [];

        protected override CancellationToken CancellationTokenCore => CancellationToken.None;

        protected override Metadata ResponseTrailersCore { get; } = [];

        protected override Status StatusCore { get; set; }

        protected override WriteOptions? WriteOptionsCore { get; set; }

        protected override AuthContext AuthContextCore => new(null, []);

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
