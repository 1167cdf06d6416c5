using Microsoft.Extensions.Logging.Abstractions;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Inference.Runtime;
using ShieldCluster.Testing;

namespace ShieldCluster.Inference.Tests;

/// <summary>The repository's real models, loaded once for the test class.</summary>
public sealed class ModelRepositoryFixture : IDisposable
{
    public ModelRepository Repository { get; } = Open(RepositoryPaths.Models);

    public static ModelRepository Open(string root, InferenceDevice device = InferenceDevice.Cpu)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new InferenceOptions { ModelRepository = root, Device = device });
        return new ModelRepository(options, new ExecutionProviderSelector(options, NullLogger<ExecutionProviderSelector>.Instance), NullLogger<ModelRepository>.Instance);
    }

    public void Dispose() => Repository.Dispose();
}
