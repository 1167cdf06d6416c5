using Orleans.Concurrency;
using ShieldCluster.Contracts;
using ShieldCluster.Inference.Batching;
using ShieldCluster.Inference.Repository;

namespace ShieldCluster.Grains.Inference;

/// <summary>
/// Runs models for the silo it lives on. A stateless worker: activations are local to the calling
/// silo, so tensors never cross the network, and several run side by side. Reentrant: a request
/// waiting in the model's batcher does not hold the activation, so requests from many clients meet
/// in one batch.
/// </summary>
[StatelessWorker]
[Reentrant]
public sealed class InferenceGrain(ModelRepository models) : Grain, IInferenceGrain
{
    /// <inheritdoc />
    public async Task<InferenceResult> InferAsync(InferenceRequest request)
    {
        var model = models.Find(request.Model, request.Version)
            ?? throw new ArgumentException($"model '{request.Model}' version {request.Version} is not loaded on this silo", nameof(request));
        try
        {
            var run = await model.InferAsync(request.Input, request.BatchSize, request.Squeeze, request.Halves);
            return new InferenceResult(model.Version, run.Outputs, run.Scores, run.SqueezedScores);
        }
        catch (LoadSheddingException ex)
        {
            // Unavailability, as the HTTP and gRPC front ends map it (503 / Unavailable).
            throw new OrleansException(ex.Message);
        }
    }
}
