using ShieldCluster.RedTeam.Substitute;

namespace ShieldCluster.RedTeam.Evaluation;

/// <summary>What attacks against one target share: the stolen substitute and the victim's labels on the evaluation subset.</summary>
public sealed class TargetState : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int[]? _victimLabels;

    /// <summary>Creates the state for a target labelled <paramref name="label"/>.</summary>
    public TargetState(string label) => Label = label;

    /// <summary>"protected" or "baseline".</summary>
    public string Label { get; }

    /// <summary>The substitute Knockoff stole from this target, once it ran.</summary>
    public ISubstituteModel? Substitute { get; set; }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();

    /// <summary>The victim's labels on the evaluation subset, queried once through <paramref name="query"/>.</summary>
    internal async Task<int[]> VictimLabelsAsync(Func<Task<int[]>> query)
    {
        await _gate.WaitAsync();
        try
        {
            return _victimLabels ??= await query();
        }
        finally
        {
            _gate.Release();
        }
    }
}
