using System.Globalization;

namespace ShieldCluster.LoadGen;

/// <summary>How the open-loop phase spaces its arrivals.</summary>
internal enum Schedule
{
    /// <summary>Exponential gaps (a Poisson process), seeded: both servers get the same arrival times.</summary>
    Poisson,

    /// <summary>Evenly spaced arrivals.</summary>
    Uniform,
}

/// <summary>The command line.</summary>
internal sealed record LoadGenOptions
{
    public double DurationSeconds { get; init; } = 20;

    public double WarmupSeconds { get; init; } = 5;

    public int Concurrency { get; init; } = 32;

    /// <summary>Client keys for the many-keys phases; 0 means one per concurrent connection.</summary>
    public int Clients { get; init; }

    /// <summary>Fixed open-loop rate in requests per second; null means <see cref="RateFraction"/> of the unprotected peak.</summary>
    public double? Rate { get; init; }

    public double RateFraction { get; init; } = 0.5;

    public Schedule Schedule { get; init; } = Schedule.Poisson;

    public int Seed { get; init; } = 7;

    public bool Json { get; init; }

    public string? JsonOut { get; init; }

    public string? ServerDll { get; init; }

    /// <summary>A self-contained server executable to start instead of <c>dotnet ShieldCluster.Server.dll</c>.</summary>
    public string? ServerExe { get; init; }

    /// <summary>How requests travel to the servers.</summary>
    public Wire Wire { get; init; } = Wire.Json;

    /// <summary>The HTTP wires' client: the generator's own (default) or HttpClient.</summary>
    public HttpClientKind HttpClient { get; init; } = HttpClientKind.Raw;

    /// <summary>gRPC: concurrent workers per channel (one HTTP/2 connection each).</summary>
    public int GrpcWorkersPerChannel { get; init; } = 8;

    /// <summary>Where bare ONNX Runtime runs the model.</summary>
    public Device Device { get; init; } = Device.Cpu;

    /// <summary>Rows per bare ONNX Runtime <c>Run</c> call.</summary>
    public int BareBatch { get; init; } = 1;

    /// <summary>Concurrent bare ONNX Runtime <c>Run</c> callers; null means <see cref="Concurrency"/>.</summary>
    public int? BareConcurrency { get; init; }

    public int EffectiveBareConcurrency => BareConcurrency ?? Concurrency;

    public string? Models { get; init; }

    public string Model { get; init; } = "fashion-mnist";

    public Uri? ProtectedUrl { get; init; }

    public Uri? UnprotectedUrl { get; init; }

    public Uri? ProtectedGrpcUrl { get; init; }

    public Uri? UnprotectedGrpcUrl { get; init; }

    public string? AdminKey { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> ServerEnvironment { get; init; } = [];

    public bool RunBare { get; init; } = true;

    /// <summary>The unprotected server's closed loop.</summary>
    public bool RunUnprotected { get; init; } = true;

    public bool RunUnprotectedOpen { get; init; } = true;

    /// <summary>The protected server's closed loop, one key per connection.</summary>
    public bool RunProtected { get; init; } = true;

    public bool RunProtectedOneKey { get; init; } = true;

    public bool RunProtectedOpen { get; init; } = true;

    /// <summary>Whether the unprotected server is needed at all.</summary>
    public bool NeedsUnprotectedServer => RunUnprotected || RunUnprotectedOpen;

    /// <summary>Whether the protected server is needed at all.</summary>
    public bool NeedsProtectedServer => RunProtected || RunProtectedOneKey || RunProtectedOpen;

    /// <summary>The names --phases takes, each selecting the phases it lists.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> PhaseSelectors = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["bare"] = [PhaseNames.Bare],
        [PhaseNames.Bare] = [PhaseNames.Bare],
        ["unprotected"] = [PhaseNames.Unprotected],
        [PhaseNames.UnprotectedOpen] = [PhaseNames.UnprotectedOpen],
        ["protected"] = [PhaseNames.Protected],
        [PhaseNames.ProtectedOneKey] = [PhaseNames.ProtectedOneKey],
        ["one-key"] = [PhaseNames.ProtectedOneKey],
        [PhaseNames.ProtectedOpen] = [PhaseNames.ProtectedOpen],
        ["open"] = [PhaseNames.UnprotectedOpen, PhaseNames.ProtectedOpen],
        ["all"] = [PhaseNames.Bare, PhaseNames.Unprotected, PhaseNames.UnprotectedOpen, PhaseNames.Protected, PhaseNames.ProtectedOneKey, PhaseNames.ProtectedOpen],
    };

    /// <summary>Adds a bare ONNX Runtime phase that runs each image with its bit-depth-3 squeezed copy (two rows), as the protected server does.</summary>
    public bool BareSqueezed { get; init; }

    public bool Smoke { get; init; }

    /// <summary>Runs the whole selection this many times, one round after another (servers started afresh each round), and reports each round's ratios and their medians.</summary>
    public int Repeat { get; init; } = 1;

    /// <summary>
    /// With <see cref="Repeat"/>: both servers started once and kept for every round, each round's
    /// server phases in alternating order (odd rounds unprotected first), later rounds warmed for
    /// <see cref="RewarmSeconds"/>: each round's ratios compare windows minutes apart at most.
    /// </summary>
    public bool Interleave { get; init; }

    /// <summary>Squeezers to calibrate the model for before the servers start (e.g. bit-depth-5); empty: none.</summary>
    public IReadOnlyList<string> CalibrateSqueezing { get; init; } = [];

    /// <summary>Inputs the calibration scores (and as many again held out).</summary>
    public int CalibrateCount { get; init; } = 1_000;

    /// <summary>The false-positive rate the calibration's threshold is set at.</summary>
    public double CalibrateRate { get; init; } = 0.05;

    /// <summary>Interleaved rounds after the first: unmeasured seconds before each phase.</summary>
    public double RewarmSeconds { get; init; } = 5;

    public bool Help { get; init; }

    public int EffectiveClients => Clients > 0 ? Clients : Concurrency;

    public const string Usage = """
        ShieldCluster load generator: bare ONNX Runtime in process, the server with protection off, the
        server with protection on, side by side in one run. Servers are started one at a time as child
        processes (the built src/ShieldCluster.Server/bin/<Configuration>/net10.0/linux-x64/ShieldCluster.Server.dll)
        unless their URLs are given.

        usage: dotnet run --project benchmarks/ShieldCluster.LoadGen -c Release -- [options]
               ./ShieldCluster.LoadGen --server-exe ./ShieldCluster.Server --models DIR [options]   (self-contained publish)

          --duration <s>          measured seconds per phase (default 20)
          --warmup <s>            unmeasured seconds before each phase (default 5)
          --concurrency <n>       concurrent connections / workers in closed-loop phases (default 32)
          --clients <n>           client keys in the many-keys phases (default: = concurrency)
          --rate <req/s>          open-loop offered rate (default: --rate-fraction x the unprotected closed-loop peak)
          --rate-fraction <f>     (default 0.5)
          --schedule poisson|uniform   open-loop arrivals (default poisson, seeded: same arrivals for both servers)
          --seed <n>              (default 7)
          --phases <list>         the phases to run, comma-separated (default all): bare, unprotected,
                                  unprotected-open, protected, protected-one-key (or one-key), protected-open,
                                  open (both open loops), all. Each name runs only its own phase:
                                  'bare,unprotected,protected' is three closed loops.
          --bare-squeezed         also run bare ONNX Runtime on two rows per item (image + squeezed copy)
          --model <name>          the model under --models (default fashion-mnist: real Fashion-MNIST images;
                                  any other: synthetic inputs from its config.json, every request distinct)
          --wire json|binary|grpc the servers' protocol (default json): KServe v2 JSON, Triton's binary tensor
                                  extension over HTTP/1.1, or gRPC ModelInfer with raw_input_contents (HTTP/2)
          --http-client raw|httpclient  the HTTP wires' client (default raw: the generator's own HTTP/1.1 keep-alive
                                  client, which allocates nothing per request; httpclient: .NET's HttpClient)
          --grpc-workers-per-channel <n>  gRPC: concurrent workers per channel/connection (default 8)
          --device cpu|cuda       bare ONNX Runtime's execution provider (default cpu; cuda needs -p:OrtFlavor=Gpu)
          --bare-batch <n>        rows per bare ONNX Runtime Run call (default 1); throughput is in items (rows)/s
          --bare-concurrency <n>  concurrent bare Run callers (default: = concurrency)
          --smoke                 CI preset: 1 s phases, 1 s warm-up, concurrency 4
          --repeat <n>            run the whole selection n times (1-20, default 1), servers started afresh
                                  each round, and report each round's ratios and their medians: on a shared
                                  VM one run's ratio moves by several percent, a median of rounds less
          --interleave            with --repeat: start both servers once and keep them for every round;
                                  each round runs the closed loops back to back, then the open loops, in
                                  alternating order (odd rounds unprotected first, even rounds protected
                                  first), so each ratio compares windows run next to each other; before
                                  round 1 each server serves a closed loop for --warmup, not measured
          --rewarm <s>            interleaved rounds: warm-up before each server phase (default 5)
          --calibrate-squeezing <list>  before the servers start, calibrate the model's feature squeezing with these
                                  squeezers (comma-separated, e.g. bit-depth-5 or bit-depth-5,median-2x2): written
                                  into its config.json with a threshold set on the generator's own inputs (the far
                                  end of its set) through the server's code on --device, so the protected server
                                  squeezes a sample of requests; a model without a calibration squeezes nothing
                                  (it rewrites that config.json: point --models at a copy of a repository you keep)
          --calibrate-count <n>   inputs scored for the threshold, and as many held out (default 1000)
          --calibrate-rate <r>    the threshold's false-positive rate on them (default 0.05)
          --json                  print the JSON report on stdout instead of the tables
          --json-out <file>       also write the JSON report to a file
          --server-dll <path>     the server to start (default: the built one, see above)
          --server-exe <path>     a self-contained server executable to start instead (no dotnet host needed)
          --models <dir>          model repository (default: models/ of the repository)
          --server-env K=V        extra environment for started servers (repeatable), e.g.
                                  Logging__LogLevel__ShieldCluster.Access=Warning or Shield__Dashboard=false
          --protected-url <url>   use a running protected server instead of starting one
          --unprotected-url <url> use a running server with Shield__Protection__Enabled=false
          --protected-grpc-url <url>, --unprotected-grpc-url <url>
                                  their gRPC endpoints for --wire grpc (default: the same host, port 8081)
          --admin-key <key>       a security admin key of those running servers (creates the benchmark clients;
                                  their plan must be named 'bench' and have no effective rate limit)
        """;

    /// <summary>Parses the command line; throws <see cref="ArgumentException"/> with a message for the user.</summary>
    public static LoadGenOptions Parse(IReadOnlyList<string> args)
    {
        var o = new LoadGenOptions();
        var env = new List<KeyValuePair<string, string>>();
        double? duration = null, warmup = null;
        int? concurrency = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string Value()
            {
                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"{arg} needs a value");
                }

                return args[++i];
            }

            switch (arg)
            {
                case "--duration": duration = PositiveDouble(arg, Value()); break;
                case "--warmup": warmup = NonNegativeDouble(arg, Value()); break;
                case "--concurrency": concurrency = PositiveInt(arg, Value()); break;
                case "--clients": o = o with { Clients = PositiveInt(arg, Value()) }; break;
                case "--rate": o = o with { Rate = PositiveDouble(arg, Value()) }; break;
                case "--rate-fraction": o = o with { RateFraction = PositiveDouble(arg, Value()) }; break;
                case "--schedule":
                    o = o with
                    {
                        Schedule = Value() switch
                        {
                            "poisson" => Schedule.Poisson,
                            "uniform" => Schedule.Uniform,
                            var s => throw new ArgumentException($"--schedule must be poisson or uniform (got '{s}')"),
                        },
                    };
                    break;
                case "--seed": o = o with { Seed = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--phases":
                    var phases = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    var unknown = phases.FirstOrDefault(p => !PhaseSelectors.ContainsKey(p));
                    if (unknown is not null || phases.Length == 0)
                    {
                        throw new ArgumentException($"--phases takes a comma-separated list of {string.Join(", ", PhaseSelectors.Keys)} (got '{unknown}')");
                    }

                    var selected = phases.SelectMany(p => PhaseSelectors[p]).ToHashSet(StringComparer.Ordinal);
                    o = o with
                    {
                        RunBare = selected.Contains(PhaseNames.Bare),
                        RunUnprotected = selected.Contains(PhaseNames.Unprotected),
                        RunUnprotectedOpen = selected.Contains(PhaseNames.UnprotectedOpen),
                        RunProtected = selected.Contains(PhaseNames.Protected),
                        RunProtectedOneKey = selected.Contains(PhaseNames.ProtectedOneKey),
                        RunProtectedOpen = selected.Contains(PhaseNames.ProtectedOpen),
                    };
                    break;
                case "--model":
                    var model = Value();
                    o = o with
                    {
                        Model = model.Length > 0 && model.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && model[0] != '.'
                            ? model
                            : throw new ArgumentException($"--model takes a model directory name (got '{model}')"),
                    };
                    break;
                case "--wire":
                    o = o with
                    {
                        Wire = Value() switch
                        {
                            "json" => Wire.Json,
                            "binary" => Wire.Binary,
                            "grpc" => Wire.Grpc,
                            var s => throw new ArgumentException($"--wire must be json, binary or grpc (got '{s}')"),
                        },
                    };
                    break;
                case "--http-client":
                    o = o with
                    {
                        HttpClient = Value() switch
                        {
                            "raw" => HttpClientKind.Raw,
                            "httpclient" => HttpClientKind.HttpClient,
                            var s => throw new ArgumentException($"--http-client must be raw or httpclient (got '{s}')"),
                        },
                    };
                    break;
                case "--grpc-workers-per-channel": o = o with { GrpcWorkersPerChannel = PositiveInt(arg, Value()) }; break;
                case "--device":
                    o = o with
                    {
                        Device = Value() switch
                        {
                            "cpu" => Device.Cpu,
                            "cuda" => Device.Cuda,
                            var s => throw new ArgumentException($"--device must be cpu or cuda (got '{s}')"),
                        },
                    };
                    break;
                case "--bare-batch": o = o with { BareBatch = PositiveInt(arg, Value()) }; break;
                case "--bare-concurrency": o = o with { BareConcurrency = PositiveInt(arg, Value()) }; break;
                case "--server-exe": o = o with { ServerExe = Value() }; break;
                case "--protected-grpc-url": o = o with { ProtectedGrpcUrl = Url(arg, Value()) }; break;
                case "--unprotected-grpc-url": o = o with { UnprotectedGrpcUrl = Url(arg, Value()) }; break;
                case "--bare-squeezed": o = o with { BareSqueezed = true }; break;
                case "--smoke": o = o with { Smoke = true }; break;
                case "--repeat":
                    var repeat = PositiveInt(arg, Value());
                    o = o with { Repeat = repeat <= 20 ? repeat : throw new ArgumentException($"--repeat takes 1 to 20 rounds (got {repeat})") };
                    break;
                case "--interleave": o = o with { Interleave = true }; break;
                case "--rewarm": o = o with { RewarmSeconds = NonNegativeDouble(arg, Value()) }; break;
                case "--calibrate-squeezing":
                    var squeezers = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    // The server's squeezer names (src/ShieldCluster.Inference/Squeezing/SqueezingSettings.cs); it checks each against the model's input.
                    if (squeezers.FirstOrDefault(n => !System.Text.RegularExpressions.Regex.IsMatch(n, "^(bit-depth-[1-9][0-9]?|median-([1-9])x\\2)$")) is { } unknownSqueezer)
                    {
                        throw new ArgumentException($"--calibrate-squeezing: unknown squeezer '{unknownSqueezer}' (use bit-depth-N or median-KxK)");
                    }

                    o = o with { CalibrateSqueezing = squeezers.Length > 0 ? squeezers : throw new ArgumentException("--calibrate-squeezing takes squeezer names, e.g. bit-depth-5") };
                    break;
                case "--calibrate-count": o = o with { CalibrateCount = PositiveInt(arg, Value()) }; break;
                case "--calibrate-rate":
                    var calibrateRate = PositiveDouble(arg, Value());
                    o = o with { CalibrateRate = calibrateRate < 1 ? calibrateRate : throw new ArgumentException($"--calibrate-rate must lie between 0 and 1 (got {calibrateRate.ToString(CultureInfo.InvariantCulture)})") };
                    break;
                case "--json": o = o with { Json = true }; break;
                case "--json-out": o = o with { JsonOut = Value() }; break;
                case "--server-dll": o = o with { ServerDll = Value() }; break;
                case "--models": o = o with { Models = Value() }; break;
                case "--server-env":
                    var kv = Value();
                    var eq = kv.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0)
                    {
                        throw new ArgumentException($"--server-env takes KEY=VALUE (got '{kv}')");
                    }

                    env.Add(new(kv[..eq], kv[(eq + 1)..]));
                    break;
                case "--protected-url": o = o with { ProtectedUrl = Url(arg, Value()) }; break;
                case "--unprotected-url": o = o with { UnprotectedUrl = Url(arg, Value()) }; break;
                case "--admin-key": o = o with { AdminKey = Value() }; break;
                case "-h" or "--help": o = o with { Help = true }; break;
                default: throw new ArgumentException($"unknown option '{arg}' (--help lists them)");
            }
        }

        if (o.Smoke)
        {
            o = o with { DurationSeconds = 1, WarmupSeconds = 1, Concurrency = 4 };
        }

        o = o with
        {
            DurationSeconds = duration ?? o.DurationSeconds,
            WarmupSeconds = warmup ?? o.WarmupSeconds,
            Concurrency = concurrency ?? o.Concurrency,
            ServerEnvironment = env,
        };

        if ((o.ProtectedUrl is not null || o.UnprotectedUrl is not null) && string.IsNullOrEmpty(o.AdminKey))
        {
            throw new ArgumentException("--admin-key is required with --protected-url or --unprotected-url (it creates the benchmark clients)");
        }

        if (o.ServerDll is not null && o.ServerExe is not null)
        {
            throw new ArgumentException("--server-dll and --server-exe are alternatives: give one");
        }

        if (o.Interleave && o.Repeat < 2)
        {
            throw new ArgumentException("--interleave alternates the servers from round to round: give --repeat 2 or more");
        }

        // The open loops' rate comes from --rate or from a closed loop measured before them.
        if (o.Rate is null && o.RunUnprotectedOpen && !o.RunUnprotected)
        {
            throw new ArgumentException("the unprotected-open phase needs --rate or the unprotected phase (its rate is a fraction of that peak)");
        }

        if (o.Rate is null && o.RunProtectedOpen && !o.RunUnprotected && !o.RunProtected)
        {
            throw new ArgumentException("the protected-open phase needs --rate, or the unprotected or protected phase (its rate is a fraction of that peak)");
        }

        return o;
    }

    private static double PositiveDouble(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0 && double.IsFinite(d)
            ? d
            : throw new ArgumentException($"{name} must be a positive number (got '{value}')");

    private static double NonNegativeDouble(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0 && double.IsFinite(d)
            ? d
            : throw new ArgumentException($"{name} must be a number >= 0 (got '{value}')");

    private static int PositiveInt(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} must be a positive integer (got '{value}')");

    private static Uri Url(string name, string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new ArgumentException($"{name} must be an http(s) URL (got '{value}')");
}
