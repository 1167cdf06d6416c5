using ShieldCluster.RedTeam.Target;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>
/// The attacker's view of the victim under a query budget: every call spends queries and ends the
/// attack (<see cref="AttackStoppedException"/>) when the budget is spent or the target stops
/// answering.
/// </summary>
internal sealed class BudgetedOracle
{
    private readonly ITargetModel _model;

    public BudgetedOracle(ITargetModel model, int budget)
    {
        _model = model;
        Budget = budget;
    }

    public int Budget { get; }

    public int Used { get; private set; }

    public int Remaining => Budget - Used;

    public int Classes => _model.Classes;

    /// <summary>Scores of one image.</summary>
    public async Task<float[]> ScoresAsync(float[] image, CancellationToken cancellationToken)
    {
        var response = await QueryAsync(image, 1, cancellationToken);
        return response.Probabilities;
    }

    /// <summary>Arg-max labels of <paramref name="count"/> images, in batches of at most 64.</summary>
    public async Task<int[]> LabelsAsync(float[] images, int count, CancellationToken cancellationToken)
    {
        var pixels = images.Length / Math.Max(count, 1);
        var labels = new int[count];
        for (var start = 0; start < count; start += 64)
        {
            var n = Math.Min(64, count - start);
            var response = await QueryAsync(images.AsMemory(start * pixels, n * pixels), n, cancellationToken);
            for (var i = 0; i < n; i++)
            {
                labels[start + i] = response.Label(i, _model.Classes);
            }
        }

        return labels;
    }

    /// <summary>One request of <paramref name="count"/> images.</summary>
    public async Task<InferenceResponse> QueryAsync(ReadOnlyMemory<float> images, int count, CancellationToken cancellationToken)
    {
        if (Used + count > Budget)
        {
            throw new AttackStoppedException($"query budget of {Budget} spent");
        }

        Used += count;
        var response = await _model.InferAsync(images, count, cancellationToken);
        return response.Kind switch
        {
            ResponseKind.Answered => response,
            ResponseKind.Blocked => throw new AttackStoppedException("blocked (403)"),
            ResponseKind.RateLimited => throw new AttackStoppedException($"rate limited beyond the retry cap: {response.Error}"),
            ResponseKind.Rejected => throw new AttackStoppedException($"refused ({response.StatusCode}): {response.Error}"),
            _ => throw new TargetUnreachableException($"the target stopped answering: {response.StatusCode} {response.Error}"),
        };
    }
}
