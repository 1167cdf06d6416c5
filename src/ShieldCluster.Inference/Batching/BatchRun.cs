namespace ShieldCluster.Inference.Batching;

/// <summary>
/// What one model run answered for a batch: each output's rows (items x row length, in order) and,
/// when the batch was squeezed, each item's squeezing score and its squeezed copies' scores.
/// </summary>
public sealed record BatchRun(float[][] Outputs, float[]? Scores = null, float[]? SqueezedScores = null);

/// <summary>Runs <paramref name="items"/> items of <paramref name="input"/> as one model call, squeezed or not.</summary>
public delegate BatchRun BatchRunner(ReadOnlyMemory<float> input, int items, bool squeeze);
