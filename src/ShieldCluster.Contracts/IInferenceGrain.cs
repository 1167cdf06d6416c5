namespace ShieldCluster.Contracts;

/// <summary>
/// Runs a model, keyed by the model's name. Implemented as a stateless worker, so the tensor stays
/// on the silo that received the request.
/// </summary>
[Alias("ShieldCluster.IInferenceGrain")]
public interface IInferenceGrain : IGrainWithStringKey
{
    /// <summary>Runs one validated request (a whole batch in one ONNX Runtime call).</summary>
    [Alias("InferAsync")]
    Task<InferenceResult> InferAsync(InferenceRequest request);
}
