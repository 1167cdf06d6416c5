using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Net.Client;
using ShieldCluster.Server.Grpc.Protocol;
using ShieldCluster.Testing;
using static ShieldCluster.Server.Tests.GrpcRequests;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// The gRPC endpoint as an operator runs it: the server's own process, cleartext HTTP/2 on
/// <c>Shield:Grpc:Port</c> beside the HTTP/1.1 endpoint of <c>--urls</c> / <c>ASPNETCORE_URLS</c>.
/// </summary>
public partial class GrpcServerProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task EmbeddedDefault_DemoKeyServesHttpAndGrpc_OnTheirOwnPorts()
    {
        var grpcPort = ServerProcess.FreePort();
        await using var server = ServerProcess.Start(new Dictionary<string, string> { ["Shield__Grpc__Port"] = Port(grpcPort) });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        await server.WaitUntilReadyAsync(http, StartTimeout);
        var key = DemoKey().Match(server.Output);
        Assert.True(key.Success, $"no demo key printed:\n{server.Output}");

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        Assert.True((await grpc.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.True((await grpc.ServerReadyAsync(new ServerReadyRequest())).Ready);
        var anonymous = await Assert.ThrowsAsync<RpcException>(() => grpc.ModelInferAsync(Infer(0, 1), Key(null)).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);

        var answered = await grpc.ModelInferAsync(Infer(0, 4, raw: true), Key(key.Value));
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Value);
        var json = await PostAsync(http, Json(4, 4));
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        Assert.Equal(FashionMnist.TestSet.Labels[0], Predictions(answered)[0]);
        Assert.Equal(4, (await PredictionsAsync(json)).Length);

        // The HTTP port stays HTTP/1.1 (no cleartext HTTP/2 there); the gRPC port is HTTP/2 only:
        // Kestrel answers an HTTP/1.1 request there with 400 ("HTTP/1.x request sent to HTTP/2 only endpoint").
        Assert.Equal(new Version(1, 1), json.Version);
        using var http1ToGrpcPort = new HttpClient();
        var http1 = await http1ToGrpcPort.GetAsync(new Uri($"http://127.0.0.1:{grpcPort}/v2/health/live"));
        Assert.Equal(HttpStatusCode.BadRequest, http1.StatusCode);
        Assert.Contains("HTTP/2", await http1.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--urls", "http://0.0.0.0:{0}")]
    [InlineData("ASPNETCORE_URLS", "http://+:{0}")]
    public async Task AllInterfacesUrls_AsKubernetesSetsThem_ServeHttpAndGrpc(string how, string urlFormat)
    {
        var httpPort = ServerProcess.FreePort();
        var grpcPort = ServerProcess.FreePort();
        var url = string.Format(System.Globalization.CultureInfo.InvariantCulture, urlFormat, httpPort);
        await using var server = Launch(how == "--urls" ? ["--urls", url] : [], new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = how == "--urls" ? "" : url,
            ["Shield__Grpc__Port"] = Port(grpcPort),
        });
        using var http = new HttpClient();
        await server.WaitForAsync(async () => (await http.GetAsync(new Uri($"http://127.0.0.1:{httpPort}/v2/health/ready"))).StatusCode == HttpStatusCode.OK);

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        Assert.True((await grpc.ServerReadyAsync(new ServerReadyRequest())).Ready);
        Assert.Equal("shieldcluster", (await grpc.ServerMetadataAsync(new ServerMetadataRequest())).Name);
        Assert.DoesNotContain("Overriding address", server.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("70000")]
    [InlineData("0")]
    [InlineData("lots")]
    [InlineData("silo")]
    [InlineData("http")]
    public async Task Start_BadGrpcPort_ExitsNamingTheKey(string value)
    {
        var httpPort = ServerProcess.FreePort();
        var siloPort = ServerProcess.FreePort();
        var port = value switch
        {
            "silo" => Port(siloPort),
            "http" => Port(httpPort),
            _ => value,
        };
        await using var server = Launch(["--urls", $"http://127.0.0.1:{httpPort}"], new Dictionary<string, string>
        {
            ["Shield__SiloPort"] = Port(siloPort),
            ["Shield__Grpc__Port"] = port,
        });
        var exitCode = await server.WaitForExitAsync(StartTimeout);
        Assert.True(exitCode != 0, $"the server exited 0 with Shield__Grpc__Port={port}:\n{server.Output}");
        Assert.Contains("ShieldCluster did not start", server.Output, StringComparison.Ordinal);
        Assert.Contains("Shield:Grpc:Port", server.Output, StringComparison.Ordinal);
    }

    private static string Port(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The server with its own arguments (<see cref="ServerProcess"/> always passes loopback <c>--urls</c>).</summary>
    private static Launched Launch(string[] arguments, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ShieldCluster.Server.dll"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["Shield__SiloPort"] = Port(ServerProcess.FreePort());
        info.Environment["Shield__GatewayPort"] = Port(ServerProcess.FreePort());
        info.Environment["Shield__Inference__ModelRepository"] = RepositoryPaths.Models;
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return new Launched(Process.Start(info)!);
    }

    private sealed class Launched : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _output = new();

        public Launched(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, e) => Capture(e.Data);
            process.ErrorDataReceived += (_, e) => Capture(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Output => string.Join('\n', _output);

        public async Task WaitForAsync(Func<Task<bool>> ready)
        {
            var deadline = DateTime.UtcNow + StartTimeout;
            while (DateTime.UtcNow < deadline)
            {
                Assert.False(_process.HasExited, $"the server exited:\n{Output}");
                try
                {
                    if (await ready())
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                await Task.Delay(100);
            }

            throw new TimeoutException($"the server was not ready within {StartTimeout}:\n{Output}");
        }

        public async Task<int> WaitForExitAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            await _process.WaitForExitAsync(cts.Token);
            _process.WaitForExit();
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private void Capture(string? line)
        {
            if (line is not null)
            {
                _output.Enqueue(line);
            }
        }
    }

    [GeneratedRegex(@"shk_[A-Za-z0-9_-]{43}")]
    private static partial Regex DemoKey();
}
