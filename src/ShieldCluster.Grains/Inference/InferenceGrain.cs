using Orleans.Concurrency;
using ShieldCluster.Contracts;
using ShieldCluster.Inference.Repository;

namespace ShieldCluster.Grains.Inference;

/// <summary>
/// Runs models for the silo it lives on. A stateless worker: activations are local to the calling
/// silo, so tensors never cross the network, and several run side by side.
/// </summary>
[StatelessWorker]
public sealed class InferenceGrain(ModelRepository models) : Grain, IInferenceGrain
{
    /// <inheritdoc />
    public Task<InferenceResult> InferAsync(InferenceRequest request)
    {
        var model = models.Find(request.Model, request.Version)
            ?? throw new ArgumentException($"model '{request.Model}' version {request.Version} is not loaded on this silo", nameof(request));
        if (request.Squeeze && model.SqueezeThreshold is not null)
        {
            var run = model.RunWithSqueezing(request.Input, request.BatchSize);
            return Task.FromResult(new InferenceResult(model.Version, run.Outputs, run.Scores, run.SqueezedScores));
        }

        return Task.FromResult(new InferenceResult(model.Version, model.Run(request.Input, request.BatchSize)));
    }
}
