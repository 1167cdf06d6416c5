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

    public string? Models { get; init; }

    public string Model { get; init; } = "fashion-mnist";

    public Uri? ProtectedUrl { get; init; }

    public Uri? UnprotectedUrl { get; init; }

    public string? AdminKey { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> ServerEnvironment { get; init; } = [];

    public bool RunBare { get; init; } = true;

    public bool RunUnprotected { get; init; } = true;

    public bool RunProtected { get; init; } = true;

    /// <summary>Adds a bare ONNX Runtime phase that runs each image with its bit-depth-3 squeezed copy (two rows), as the protected server does.</summary>
    public bool BareSqueezed { get; init; }

    public bool Smoke { get; init; }

    public bool Help { get; init; }

    public int EffectiveClients => Clients > 0 ? Clients : Concurrency;

    public const string Usage = """
        ShieldCluster load generator: bare ONNX Runtime in process, the server with protection off, the
        server with protection on, side by side in one run. Servers are started one at a time as child
        processes (the built src/ShieldCluster.Server/bin/<Configuration>/net10.0/linux-x64/ShieldCluster.Server.dll)
        unless their URLs are given.

        usage: dotnet run --project benchmarks/ShieldCluster.LoadGen -c Release -- [options]

          --duration <s>          measured seconds per phase (default 20)
          --warmup <s>            unmeasured seconds before each phase (default 5)
          --concurrency <n>       concurrent connections / workers in closed-loop phases (default 32)
          --clients <n>           client keys in the many-keys phases (default: = concurrency)
          --rate <req/s>          open-loop offered rate (default: --rate-fraction x the unprotected closed-loop peak)
          --rate-fraction <f>     (default 0.5)
          --schedule poisson|uniform   open-loop arrivals (default poisson, seeded: same arrivals for both servers)
          --seed <n>              (default 7)
          --phases <list>         any of bare,unprotected,protected (default all three)
          --bare-squeezed         also run bare ONNX Runtime on two rows per request (image + squeezed copy)
          --smoke                 CI preset: 1 s phases, 1 s warm-up, concurrency 4
          --json                  print the JSON report on stdout instead of the tables
          --json-out <file>       also write the JSON report to a file
          --server-dll <path>     the server to start (default: the built one, see above)
          --models <dir>          model repository (default: models/ of the repository)
          --server-env K=V        extra environment for started servers (repeatable), e.g.
                                  Logging__LogLevel__ShieldCluster.Access=Warning or Shield__Dashboard=false
          --protected-url <url>   use a running protected server instead of starting one
          --unprotected-url <url> use a running server with Shield__Protection__Enabled=false
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
                    var unknown = phases.FirstOrDefault(p => p is not ("bare" or "unprotected" or "protected"));
                    if (unknown is not null || phases.Length == 0)
                    {
                        throw new ArgumentException($"--phases takes bare,unprotected,protected (got '{unknown}')");
                    }

                    o = o with { RunBare = phases.Contains("bare"), RunUnprotected = phases.Contains("unprotected"), RunProtected = phases.Contains("protected") };
                    break;
                case "--bare-squeezed": o = o with { BareSqueezed = true }; break;
                case "--smoke": o = o with { Smoke = true }; break;
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
