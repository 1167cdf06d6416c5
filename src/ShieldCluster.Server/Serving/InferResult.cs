namespace ShieldCluster.Server.Serving;

/// <summary>The answer to an <see cref="InferRequest"/>, before any transport writes it.</summary>
/// <param name="Model">The model's name.</param>
/// <param name="Version">The model version that answered.</param>
/// <param name="Id">The request's id, if it had one.</param>
/// <param name="Outputs">The output tensors, in the order asked for (all of the model's when none were named).</param>
public sealed record InferResult(string Model, string Version, string? Id, IReadOnlyList<InferOutput> Outputs);
