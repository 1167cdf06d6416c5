namespace ShieldCluster.Protection.Validation;

/// <summary>
/// What a model declares for one input: its name, Open Inference Protocol datatype (e.g. <c>FP32</c>),
/// dimensions of one item (without the batch dimension) and, optionally, the range its values must lie in.
/// </summary>
public sealed record TensorSpec(string Name, string Datatype, IReadOnlyList<long> ItemDims, float? Min = null, float? Max = null)
{
    /// <summary>Number of values in one item.</summary>
    public long ItemLength => ItemDims.Aggregate(1L, (a, d) => a * d);

    /// <summary>The shape as the protocol's metadata shows it, <c>-1</c> standing for the batch dimension when batched.</summary>
    public long[] ProtocolShape(bool batched) => batched ? [-1, .. ItemDims] : [.. ItemDims];
}
