namespace ShieldCluster.Contracts;

/// <summary>
/// A validated inference request: the model version, the input as one flat FP32 array (or, for an
/// FP16 tensor as it came, as one flat half-precision array in <see cref="Halves"/> with
/// <see cref="Input"/> empty) and the batch size. Immutable, so a call on the same silo passes the
/// array without copying it.
/// </summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.InferenceRequest")]
public sealed record InferenceRequest(
    [property: Id(0)] string Model,
    [property: Id(1)] string Version,
    [property: Id(2)] float[] Input,
    [property: Id(3)] int BatchSize,
    [property: Id(4)] bool Squeeze = false,
    [property: Id(5)] Half[]? Halves = null);

/// <summary>
/// Every output of the model for one request, flat, in the model's output order; with feature
/// squeezing, each item's score and its squeezed copies' class scores (item, squeezer, class).
/// </summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.InferenceResult")]
public sealed record InferenceResult(
    [property: Id(0)] string Version,
    [property: Id(1)] float[][] Outputs,
    [property: Id(2)] float[]? SqueezeScores = null,
    [property: Id(3)] float[]? SqueezedScores = null);
