using System.Text.Json.Nodes;
using ShieldCluster.Testing;

namespace ShieldCluster.Inference.Tests;

public class ModelRepositoryTests(ModelRepositoryFixture fixture) : IClassFixture<ModelRepositoryFixture>
{
    [Fact]
    public void Load_DemoRepository_ServesFashionMnistWithItsDeclaration()
    {
        var model = fixture.Repository.Find("fashion-mnist", null);
        Assert.NotNull(model);
        Assert.Equal("input", model.Input.Name);
        Assert.Equal("FP32", model.Input.Datatype);
        Assert.Equal([-1L, 1, 28, 28], model.Input.ProtocolShape(batched: true));
        Assert.Equal((0f, 1f), (model.Input.Min, model.Input.Max));
        Assert.Equal("probabilities", Assert.Single(model.Outputs).Name);
        Assert.Equal(64, model.MaxBatchSize);
        Assert.Equal(10, model.Labels.Count);
        Assert.Equal("CPU", model.Provider);
    }

    [Fact]
    public void Find_UnknownModelOrVersion_ReturnsNull()
    {
        Assert.Null(fixture.Repository.Find("no-such-model", null));
        Assert.Null(fixture.Repository.Find("fashion-mnist", "999"));
        Assert.Null(fixture.Repository.Find("fashion-mnist", "latest"));
        Assert.NotNull(fixture.Repository.Find("fashion-mnist", "1"));
    }

    [Fact]
    public void Load_TamperedModelFile_RefusesThatVersion()
    {
        using var copy = TempRepository.CopyOfDemo();
        var onnx = Path.Combine(copy.Path, "fashion-mnist", "1", "model.onnx");
        var bytes = File.ReadAllBytes(onnx);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(onnx, bytes);

        using var repository = ModelRepositoryFixture.Open(copy.Path);
        Assert.Null(repository.Find("fashion-mnist"));
    }

    [Fact]
    public void Load_UnlistedFileInVersion_RefusesThatVersion()
    {
        using var copy = TempRepository.CopyOfDemo();
        File.WriteAllText(Path.Combine(copy.Path, "fashion-mnist", "1", "extra.bin"), "smuggled");

        using var repository = ModelRepositoryFixture.Open(copy.Path);
        Assert.Null(repository.Find("fashion-mnist"));
    }

    [Fact]
    public void Load_TwoVersionsOneTampered_ServesTheGoodOneAsLatest()
    {
        using var copy = TempRepository.CopyOfDemo();
        var model = Path.Combine(copy.Path, "fashion-mnist");
        Directory.CreateDirectory(Path.Combine(model, "2"));
        File.WriteAllBytes(Path.Combine(model, "2", "model.onnx"), [1, 2, 3]);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(model, "config.json")))!;
        config["sha256"]!["2"] = new JsonObject { ["model.onnx"] = new string('0', 64) };
        File.WriteAllText(Path.Combine(model, "config.json"), config.ToJsonString());

        using var repository = ModelRepositoryFixture.Open(copy.Path);
        var served = repository.Find("fashion-mnist");
        Assert.NotNull(served);
        Assert.Equal("1", served.Latest.Version);
        Assert.Null(served.Get("2"));
    }

    [Fact]
    public void Load_MissingDirectory_FailsNamingTheKey()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => ModelRepositoryFixture.Open("/nonexistent/models"));
        Assert.Contains("Shield:Inference:ModelRepository", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_CudaRequiredOnCpuBuild_FailsSayingWhy()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => ModelRepositoryFixture.Open(RepositoryPaths.Models, InferenceDevice.Cuda));
        Assert.Contains("Shield:Inference:Device is 'cuda'", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Message.Contains("CPU build", StringComparison.Ordinal), ex.Message);
    }

    [Fact]
    public void Load_AutoOnCpuBuild_FallsBackToCpu()
    {
        using var repository = ModelRepositoryFixture.Open(RepositoryPaths.Models, InferenceDevice.Auto);
        var model = repository.Find("fashion-mnist", null);
        Assert.NotNull(model);
        Assert.Equal("CPU", model.Provider);
    }

    private sealed class TempRepository : IDisposable
    {
        private TempRepository(string path) => Path = path;

        public string Path { get; }

        public static TempRepository CopyOfDemo()
        {
            var root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "shield-models-" + Guid.NewGuid().ToString("N"));
            var source = System.IO.Path.Combine(RepositoryPaths.Models, "fashion-mnist");
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var target = System.IO.Path.Combine(root, "fashion-mnist", System.IO.Path.GetRelativePath(source, file));
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            return new TempRepository(root);
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

public class CudaOptionsTests
{
    [Fact]
    public void CudaOptions_CarryDeviceSearchAndMemoryLimit_OnlyWhenSet()
    {
        var defaults = ShieldCluster.Inference.Runtime.ExecutionProviderSelector.CudaOptions(new InferenceOptions());
        Assert.Equal("0", defaults["device_id"]);
        Assert.Equal("EXHAUSTIVE", defaults["cudnn_conv_algo_search"]);
        Assert.False(defaults.ContainsKey("gpu_mem_limit"));

        var limited = ShieldCluster.Inference.Runtime.ExecutionProviderSelector.CudaOptions(new InferenceOptions { DeviceId = 1, CudnnConvAlgoSearch = "HEURISTIC", GpuMemoryLimitBytes = 8L << 30 });
        Assert.Equal("1", limited["device_id"]);
        Assert.Equal("HEURISTIC", limited["cudnn_conv_algo_search"]);
        Assert.Equal((8L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture), limited["gpu_mem_limit"]);
    }
}
