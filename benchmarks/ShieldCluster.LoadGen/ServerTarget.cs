using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ShieldCluster.LoadGen;

/// <summary>
/// A server under test: started here as a child process (<c>dotnet ShieldCluster.Server.dll</c>, or a
/// self-contained <c>ShieldCluster.Server</c> executable; its output to a log file so that reading it
/// costs the generator nothing), or one already running.
/// </summary>
internal sealed class ServerTarget : IAsyncDisposable
{
    public const string Plan = "bench";

    private readonly Process? _process;

    private ServerTarget(string name, Uri baseAddress, Uri? grpcAddress, string adminKey, Process? process, string? logPath)
    {
        Name = name;
        BaseAddress = baseAddress;
        GrpcAddress = grpcAddress;
        AdminKey = adminKey;
        _process = process;
        LogPath = logPath;
    }

    public string Name { get; }

    public Uri BaseAddress { get; }

    /// <summary>The gRPC endpoint (cleartext HTTP/2): for a started server its own free port.</summary>
    public Uri? GrpcAddress { get; }

    public string AdminKey { get; }

    public string? LogPath { get; }

    /// <summary>The server's process id when started here (its CPU time is then measured).</summary>
    public int? Pid => _process?.Id;

    /// <summary>A running server; its gRPC endpoint <paramref name="grpcUrl"/>, else the HTTP host on the server's default gRPC port 8081.</summary>
    public static ServerTarget External(string name, Uri url, Uri? grpcUrl, string adminKey) =>
        new(name, url, grpcUrl ?? new UriBuilder("http", url.Host, 8081).Uri, adminKey, null, null);

    /// <summary>The environment a started server gets (besides its ports and the model repository).</summary>
    public static Dictionary<string, string> Environment(bool protection, string adminKey, IEnumerable<KeyValuePair<string, string>> extra)
    {
        var env = new Dictionary<string, string>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Shield__Protection__Enabled"] = protection ? "true" : "false",
            ["Shield__Admins__bench__ApiKeySha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(adminKey))),
            ["Shield__Admins__bench__Role"] = "security",
            // A configured client that nobody uses: no random demo client is created and printed.
            ["Shield__Clients__unused__ApiKeySha256"] = new string('0', 64),
            // The benchmark clients' plan: no rate limit, no daily quota, no extraction budget in reach,
            // and no peer comparison: the one-key phase's client sends 30 times what each of the
            // many-keys phase's clients sent, which the peers would judge as extraction (degraded, so
            // squeezed on every request and never leased) while the budget says it is honest traffic.
            [$"Shield__Plans__{Plan}__RequestsPerSecond"] = "1000000",
            [$"Shield__Plans__{Plan}__Burst"] = "1000000",
            [$"Shield__Plans__{Plan}__DailyQuota"] = "1000000000",
            [$"Shield__Plans__{Plan}__Risk__ExtractionBudget"] = "1000000000",
            [$"Shield__Plans__{Plan}__Risk__ComparePeers"] = "false",
        };
        foreach (var (key, value) in extra)
        {
            env[key] = value;
        }

        return env;
    }

    /// <param name="server">The server: <c>ShieldCluster.Server.dll</c> (run with <c>dotnet</c>), or with
    /// <paramref name="executable"/> a self-contained <c>ShieldCluster.Server</c> executable run directly.</param>
    public static async Task<ServerTarget> StartAsync(string name, bool protection, string server, bool executable, string models,
        IEnumerable<KeyValuePair<string, string>> extraEnvironment, TextWriter log, CancellationToken cancellation)
    {
        var adminKey = "lgadmin_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var httpPort = FreePort();
        var logPath = Path.Combine(Path.GetTempPath(), $"shield-loadgen-{name}-{System.Environment.ProcessId}-{httpPort}.log");

        // exec: the shell becomes the server, so the process id (and its CPU time) is the server's.
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(server)! };
        info.ArgumentList.Add("-c");
        // Settings whose names are no shell identifiers (Logging__LogLevel__ShieldCluster.Access) would be
        // dropped from the environment by sh, so those go on the command line (Logging:LogLevel:...=V).
        info.ArgumentList.Add(executable
            ? "s=$0 u=$1 l=$2; shift 2; exec \"$s\" --urls \"$u\" \"$@\" >\"$l\" 2>&1"
            : "s=$0 u=$1 l=$2; shift 2; exec dotnet \"$s\" --urls \"$u\" \"$@\" >\"$l\" 2>&1");
        info.ArgumentList.Add(server);
        info.ArgumentList.Add($"http://127.0.0.1:{httpPort}");
        info.ArgumentList.Add(logPath);
        info.Environment["Shield__SiloPort"] = FreePort().ToString(CultureInfo.InvariantCulture);
        info.Environment["Shield__GatewayPort"] = FreePort().ToString(CultureInfo.InvariantCulture);
        // Its own gRPC port (the default 8081 may be taken); --server-env Shield__Grpc__Port=N wins.
        info.Environment["Shield__Grpc__Port"] = FreePort().ToString(CultureInfo.InvariantCulture);
        info.Environment["Shield__Inference__ModelRepository"] = models;
        foreach (var (key, value) in Environment(protection, adminKey, extraEnvironment))
        {
            if (IsShellName(key))
            {
                info.Environment[key] = value;
            }
            else
            {
                info.ArgumentList.Add($"--{key.Replace("__", ":", StringComparison.Ordinal)}={value}");
            }
        }

        var grpcPort = info.Environment["Shield__Grpc__Port"];
        log.WriteLine($"[{name}] starting {server} on http://127.0.0.1:{httpPort}, gRPC http://127.0.0.1:{grpcPort} (protection {(protection ? "on" : "off")}; log {logPath})");
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {(executable ? server : "dotnet")}");
        var target = new ServerTarget(name, new Uri($"http://127.0.0.1:{httpPort}"), new Uri($"http://127.0.0.1:{grpcPort}"), adminKey, process, logPath);
        try
        {
            await target.WaitUntilReadyAsync(TimeSpan.FromSeconds(120), cancellation);
        }
        catch
        {
            await target.DisposeAsync();
            throw;
        }

        return target;
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellation)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < timeout)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"the {Name} server exited with {_process.ExitCode}:\n{LogTail()}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, "/v2/health/ready"), cancellation);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellation.IsCancellationRequested)
            {
                // Slow answer while starting.
            }

            await Task.Delay(100, cancellation);
        }

        throw new TimeoutException($"the {Name} server was not ready within {timeout}:\n{LogTail()}");
    }

    /// <summary>The last lines of a started server's log.</summary>
    public string LogTail(int lines = 40)
    {
        try
        {
            return LogPath is null ? "" : string.Join('\n', File.ReadLines(LogPath).TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Creates <paramref name="count"/> clients on the bench plan; their keys.</summary>
    public async Task<string[]> CreateClientsAsync(HttpClient http, int count, string prefix, CancellationToken cancellation)
    {
        var keys = new string[count];
        for (var i = 0; i < count; i++)
        {
            using var request = AdminRequest(HttpMethod.Post, "/admin/clients");
            request.Content = JsonContent.Create(new { clientId = $"{prefix}-{i}", plan = Plan });
            using var response = await http.SendAsync(request, cancellation);
            var body = await response.Content.ReadAsStringAsync(cancellation);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"POST /admin/clients on the {Name} server answered {(int)response.StatusCode}: {body}");
            }

            using var doc = JsonDocument.Parse(body);
            keys[i] = doc.RootElement.GetProperty("apiKey").GetString()!;
        }

        return keys;
    }

    /// <summary>The server's Prometheus metrics, or null if they cannot be read.</summary>
    public async Task<MetricsSnapshot?> ScrapeAsync(HttpClient http, CancellationToken cancellation)
    {
        try
        {
            using var request = AdminRequest(HttpMethod.Get, "/metrics");
            using var response = await http.SendAsync(request, cancellation);
            return response.IsSuccessStatusCode ? MetricsSnapshot.Parse(await response.Content.ReadAsStringAsync(cancellation)) : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>The riskiest clients (<c>GET /admin/clients?sort=risk</c>): whether the detectors touched the benchmark traffic.</summary>
    public async Task<RiskSummary?> RiskAsync(HttpClient http, CancellationToken cancellation)
    {
        try
        {
            using var request = AdminRequest(HttpMethod.Get, "/admin/clients?sort=risk&top=1000");
            using var response = await http.SendAsync(request, cancellation);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellation));
            var clients = doc.RootElement.GetProperty("clients").EnumerateArray()
                .Select(c => (Id: c.GetProperty("clientId").GetString()!, Risk: c.GetProperty("risk").GetDouble(), State: c.GetProperty("enforcement").ToString()))
                .ToList();
            var states = clients.GroupBy(c => c.State).ToDictionary(g => g.Key, g => (long)g.Count());
            return new RiskSummary(clients.Count, clients.Count == 0 ? 0 : clients.Max(c => c.Risk), states);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private HttpRequestMessage AdminRequest(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(BaseAddress, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return request;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            // SIGTERM first (a graceful stop), then kill.
            _ = Kill(_process.Id, 15);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private static readonly HashSet<int> HandedOut = [];

    private static bool IsShellName(string key) =>
        key.Length > 0 && !char.IsAsciiDigit(key[0]) && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    /// <summary>
    /// A free loopback port, never one this process handed out before: the kernel may offer a port
    /// again as soon as its probe closes, and a server whose HTTP and silo ports coincide fails to start.
    /// </summary>
    private static int FreePort()
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

/// <summary>The enforcement states of the clients in the risk index after the protected phases.</summary>
internal sealed record RiskSummary(int ClientsWithRisk, double MaxRisk, Dictionary<string, long> ByEnforcement);

/// <summary>The server's own view of a phase, from the difference of two /metrics scrapes.</summary>
/// <param name="MeanBatchSize">Items per request (the requests' batch dimension).</param>
/// <param name="MeanModelBatch">Items per model call of the dynamic batcher: how full the batches the model ran were.</param>
/// <param name="CrossClientSkippedShare">
/// Of the items queued for the cluster-wide fingerprint check in the window, the share that skipped
/// it because the queue was full (the check fell behind); null where none was queued (protection off).
/// </param>
/// <param name="MeanCrossClientBatch">
/// Items per batch of the cluster-wide fingerprint check (each batch is one call per shard grain):
/// how much the shard calls were shared; null where none was checked (protection off).
/// </param>
/// <param name="RenewalsPerRequest">Admission leases renewed in the background per request (each one a call to a client's grain); null when none was.</param>
internal sealed record ServerSideStats(long Requests, double MeanMs, string P99Bucket, double? MeanBatchSize, double? LeasedShare = null, double? MeanModelBatch = null, double? CrossClientSkippedShare = null,
    double? MeanCrossClientBatch = null, double? RenewalsPerRequest = null);

/// <summary>The counters this generator reads from the server's Prometheus text.</summary>
internal sealed class MetricsSnapshot
{
    private readonly Dictionary<string, double> _values;

    private MetricsSnapshot(Dictionary<string, double> values) => _values = values;

    public static MetricsSnapshot Parse(string text)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("shield_inference_duration_seconds", StringComparison.Ordinal) || line.StartsWith("shield_inference_batch_size", StringComparison.Ordinal)
                || line.StartsWith("shield_admissions_total", StringComparison.Ordinal) || line.StartsWith("shield_model_call", StringComparison.Ordinal)
                || line.StartsWith("shield_crossclient_", StringComparison.Ordinal) || line.StartsWith("shield_lease_renewals_total", StringComparison.Ordinal))
            {
                var space = line.LastIndexOf(' ');
                if (space > 0 && double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    values[line[..space]] = value;
                }
            }
        }

        return new MetricsSnapshot(values);
    }

    /// <summary>Sums a series over its label sets, optionally only those whose labels contain <paramref name="labelFilter"/>.</summary>
    private double Sum(string name, string? labelFilter = null) =>
        _values.Where(kv => (kv.Key == name || kv.Key.StartsWith(name + "{", StringComparison.Ordinal))
                            && (labelFilter is null || kv.Key.Contains(labelFilter, StringComparison.Ordinal)))
            .Sum(kv => kv.Value);

    public static ServerSideStats? Between(MetricsSnapshot? start, MetricsSnapshot? end)
    {
        if (start is null || end is null)
        {
            return null;
        }

        // How much a series grew over the window.
        double Delta(string name, string? labelFilter = null) => end.Sum(name, labelFilter) - start.Sum(name, labelFilter);

        const string Latency = "shield_inference_duration_seconds";
        var count = Delta(Latency + "_count");
        if (count <= 0)
        {
            return null;
        }

        var mean = 1000 * Delta(Latency + "_sum") / count;
        var bounds = end._values.Keys
            .Where(k => k.StartsWith(Latency + "_bucket", StringComparison.Ordinal))
            .Select(k => k[(k.IndexOf("le=\"", StringComparison.Ordinal) + 4)..k.LastIndexOf('"')])
            .Distinct()
            .Select(le => (Text: le, Value: le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture)))
            .OrderBy(b => b.Value);
        var p99 = "?";
        foreach (var (text, value) in bounds)
        {
            var filter = $"le=\"{text}\"";
            var inBucket = Delta(Latency + "_bucket", filter);
            if (inBucket >= 0.99 * count)
            {
                p99 = double.IsPositiveInfinity(value) ? "> largest bucket" : $"<= {value * 1000:0.#} ms";
                break;
            }
        }

        const string Batch = "shield_inference_batch_size";
        var batches = Delta(Batch + "_count");
        double? meanBatch = batches > 0 ? Math.Round(Delta(Batch + "_sum") / batches, 2) : null;
        // Admissions made under a lease by the front end (no grain call), of all admission decisions.
        const string Admissions = "shield_admissions_total";
        var decisions = Delta(Admissions);
        double? leased = decisions > 0 ? Math.Round(Delta(Admissions, "by=\"lease\"") / decisions, 3) : null;
        var calls = Delta("shield_model_calls_total");
        double? modelBatch = calls > 0 ? Math.Round(Delta("shield_model_call_items_total") / calls, 2) : null;
        // Items that skipped the cluster-wide fingerprint check (its queue full), of those queued for
        // it: a protected figure bought by skipping detection shows here. None queued: no figure.
        var skipped = Delta("shield_crossclient_skipped_total");
        var checkedItems = Delta("shield_crossclient_batch_items_sum");
        double? skippedShare = skipped + checkedItems > 0 ? Math.Round(skipped / (skipped + checkedItems), 4) : null;
        var checks = Delta("shield_crossclient_batch_items_count");
        double? crossBatch = checks > 0 ? Math.Round(checkedItems / checks, 2) : null;
        var renewals = Delta("shield_lease_renewals_total");
        double? renewalsPerRequest = renewals > 0 ? Math.Round(renewals / count, 4) : null;
        return new ServerSideStats((long)count, Math.Round(mean, 3), p99, meanBatch, leased, modelBatch, skippedShare, crossBatch, renewalsPerRequest);
    }
}
