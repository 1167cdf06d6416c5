namespace ShieldCluster.Inference.Squeezing;

/// <summary>The result of a batch run with its squeezed copies in the same ONNX Runtime call.</summary>
/// <param name="Outputs">Every output for the original items, flat, in the model's output order.</param>
/// <param name="Scores">Per item, the feature-squeezing score (max L1 distance between the original's and a squeezed copy's scores).</param>
/// <param name="SqueezedScores">Per item and squeezer, the first output's scores of the squeezed copy: item-major, squeezer, class.</param>
public sealed record SqueezedRun(float[][] Outputs, float[] Scores, float[] SqueezedScores);
