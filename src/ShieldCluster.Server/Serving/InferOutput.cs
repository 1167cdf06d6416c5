using ShieldCluster.Protection.Validation;

namespace ShieldCluster.Server.Serving;

/// <summary>One output tensor of a result: the model's declaration of it, its shape and its values.</summary>
/// <param name="Spec">The model's declaration (name and datatype).</param>
/// <param name="Shape">The shape, with the batch dimension when the model is batched.</param>
/// <param name="Data">The values, flattened row-major.</param>
/// <param name="BinaryData">Whether an HTTP response sends the values as raw bytes (binary tensor extension).</param>
public sealed record InferOutput(TensorSpec Spec, long[] Shape, float[] Data, bool BinaryData = false);
