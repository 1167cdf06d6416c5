namespace ShieldCluster.RedTeam.Target;

/// <summary>How to reach one ShieldCluster deployment.</summary>
public sealed record HttpTargetOptions
{
    /// <summary>Base URL, e.g. <c>http://127.0.0.1:8080</c>.</summary>
    public required Uri BaseAddress { get; init; }

    /// <summary>An admin key with the security role (registers clients, reads reports).</summary>
    public required string AdminKey { get; init; }

    /// <summary>The model to attack.</summary>
    public string Model { get; init; } = "fashion-mnist";

    /// <summary>The model's input name.</summary>
    public string InputName { get; init; } = "input";

    /// <summary>Input values per image (1x28x28).</summary>
    public int Pixels { get; init; } = 28 * 28;

    /// <summary>Number of classes.</summary>
    public int Classes { get; init; } = 10;

    /// <summary>Timeout of one HTTP request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest <c>Retry-After</c> honoured; a longer one ends the query as rate limited.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many 429s one query waits out before giving up.</summary>
    public int MaxRateLimitRetries { get; init; } = 20;
}
