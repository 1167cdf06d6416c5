namespace ShieldCluster.RedTeam.Target;

/// <summary>The target's answer to a batch of images, typed by outcome.</summary>
public sealed class InferenceResponse
{
    /// <summary>Creates a response.</summary>
    public InferenceResponse(ResponseKind kind, int statusCode, float[] probabilities, bool[] degraded, int rateLimitWaits, string? error)
    {
        Kind = kind;
        StatusCode = statusCode;
        Probabilities = probabilities;
        Degraded = degraded;
        RateLimitWaits = rateLimitWaits;
        Error = error;
    }

    /// <summary>The outcome.</summary>
    public ResponseKind Kind { get; }

    /// <summary>The final HTTP status (0 when no response arrived).</summary>
    public int StatusCode { get; }

    /// <summary>For <see cref="ResponseKind.Answered"/>: <c>count x classes</c> scores, row-major; otherwise empty.</summary>
    public float[] Probabilities { get; }

    /// <summary>For <see cref="ResponseKind.Answered"/>: per row, whether the scores look hardened (see <see cref="DegradationHeuristic"/>).</summary>
    public bool[] Degraded { get; }

    /// <summary>How many 429s were waited out (honouring <c>Retry-After</c>) before this answer.</summary>
    public int RateLimitWaits { get; }

    /// <summary>The target's error text or the transport failure, when not answered.</summary>
    public string? Error { get; }

    /// <summary>True when scores came back.</summary>
    public bool Answered => Kind == ResponseKind.Answered;

    /// <summary>Index of the first degraded row, or -1.</summary>
    public int FirstDegradedRow => Array.IndexOf(Degraded, true);

    /// <summary>The scores of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<float> Row(int row, int classes) => Probabilities.AsSpan(row * classes, classes);

    /// <summary>The arg-max class of row <paramref name="row"/>.</summary>
    public int Label(int row, int classes)
    {
        var scores = Row(row, classes);
        var best = 0;
        for (var c = 1; c < scores.Length; c++)
        {
            if (scores[c] > scores[best])
            {
                best = c;
            }
        }

        return best;
    }

    /// <summary>A response for answered scores; degradation is judged here.</summary>
    public static InferenceResponse FromScores(float[] probabilities, int classes, int rateLimitWaits = 0)
    {
        var rows = probabilities.Length / classes;
        var degraded = new bool[rows];
        for (var r = 0; r < rows; r++)
        {
            degraded[r] = DegradationHeuristic.IsDegraded(probabilities.AsSpan(r * classes, classes));
        }

        return new InferenceResponse(ResponseKind.Answered, 200, probabilities, degraded, rateLimitWaits, null);
    }

    /// <summary>A response without scores.</summary>
    public static InferenceResponse Failed(ResponseKind kind, int statusCode, string? error, int rateLimitWaits = 0) =>
        new(kind, statusCode, [], [], rateLimitWaits, error);
}
