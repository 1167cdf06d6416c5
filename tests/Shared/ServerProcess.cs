using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ShieldCluster.Testing;

/// <summary>
/// The real server as its own process (<c>dotnet ShieldCluster.Server.dll</c>) on free loopback
/// ports, with its output captured line by line.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerProcess(Process process, int httpPort)
    {
        _process = process;
        HttpPort = httpPort;
        process.OutputDataReceived += (_, e) => Capture(e.Data);
        process.ErrorDataReceived += (_, e) => Capture(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int HttpPort { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{HttpPort}");

    public string Output => string.Join('\n', _output);

    public static ServerProcess Start(IReadOnlyDictionary<string, string> environment)
    {
        var httpPort = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ShieldCluster.Server.dll"));
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{httpPort}");
        info.Environment["Shield__SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["Shield__GatewayPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["Shield__Grpc__Port"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["Shield__Inference__ModelRepository"] = RepositoryPaths.Models;
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return new ServerProcess(Process.Start(info)!, httpPort);
    }

    /// <summary>Waits for the process to exit; its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the server did not exit within {timeout}; output so far:\n{Output}");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits until <c>/v2/health/ready</c> answers 200.</summary>
    public async Task WaitUntilReadyAsync(HttpClient http, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the server exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                var response = await http.GetAsync(new Uri(BaseAddress, "/v2/health/ready"));
                if (response.StatusCode == HttpStatusCode.OK)
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

        throw new TimeoutException($"the server was not ready within {timeout}; output so far:\n{Output}");
    }

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Kills the process at once (SIGKILL): no drain, no state written, as in a crash.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>Asks the process to stop (SIGTERM), as Kubernetes does before it kills a pod.</summary>
    public void Terminate()
    {
        if (SendSignal(_process.Id, 15) != 0)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

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

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A free loopback port this process has not handed out before: the kernel may give the same
    /// free port to two listeners opened one after the other (a server once failed to start on
    /// "Shield:SiloPort and Shield:GatewayPort must differ").
    /// </summary>
    internal static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
            {
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
