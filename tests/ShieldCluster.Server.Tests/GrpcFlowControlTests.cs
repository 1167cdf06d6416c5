using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ShieldCluster.Server.Grpc;

namespace ShieldCluster.Server.Tests;

public class GrpcFlowControlTests(ShieldServerFactory server) : IClassFixture<ShieldServerFactory>
{
    [Fact]
    public void Kestrel_Http2Windows_HoldSeveralImageTensors()
    {
        var http2 = server.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.Http2;
        // A 224x224x3 FP32 tensor is 602,112 bytes: the stream window takes one whole, the connection several.
        Assert.True(http2.InitialStreamWindowSize >= 602_112 + 1024, $"stream window {http2.InitialStreamWindowSize}");
        Assert.True(http2.InitialConnectionWindowSize >= 8 * 602_112, $"connection window {http2.InitialConnectionWindowSize}");
        Assert.Equal(GrpcHostingExtensions.GrpcMaxFrame, http2.MaxFrameSize);
    }
}
