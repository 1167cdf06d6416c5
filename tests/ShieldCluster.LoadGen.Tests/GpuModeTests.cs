using System.Buffers.Binary;
using System.Text.Json;
using Google.Protobuf;
using ShieldCluster.LoadGen;
using Xunit.Abstractions;

namespace ShieldCluster.LoadGen.Tests;

/// <summary>
/// The options a GPU run uses (--model, --wire, --device, --bare-batch, --bare-concurrency,
/// --phases), checked on the CPU: short smoke passes over the binary and gRPC wires against servers
/// the generator starts, bare ONNX Runtime on an FP16 graph, and the synthetic request buffers.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class GpuModeTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _repository = Directory.CreateTempSubdirectory("loadgen-models-").FullName;

    public void Dispose() => Directory.Delete(_repository, recursive: true);

    private async Task<BenchmarkReport> RunAsync(params string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var started = DateTime.UtcNow;
        var exit = await LoadGenApp.RunAsync([.. args, "--json"], stdout, stderr, timeout.Token);
        output.WriteLine(stderr.ToString());
        output.WriteLine($"took {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
        Assert.True(exit == 0, $"exit code {exit}:\n{stderr}");
        var report = BenchmarkReport.FromJson(stdout.ToString());
        output.WriteLine(report.ToText());
        return report;
    }

    private static void AssertEveryPhaseAnswered(BenchmarkReport report, string wire)
    {
        Assert.Equal([PhaseNames.Bare, PhaseNames.Unprotected, PhaseNames.Protected], report.Phases.Select(p => p.Name));
        foreach (var phase in report.Phases)
        {
            Assert.True(phase.Ok > 0 && phase.Throughput > 0, $"{phase.Name}: no answered requests");
            Assert.True(phase.Failed == 0, $"{phase.Name}: {string.Join(", ", phase.Statuses)}");
            Assert.Equal("200", Assert.Single(phase.Statuses).Key);
        }

        var bare = report.Phases[0];
        Assert.Equal((2, "cpu"), (bare.Concurrency, bare.Device));
        Assert.All(report.Phases.Skip(1), p => Assert.Equal((4, 1, wire), (p.Concurrency, p.Batch, p.Wire)));
        Assert.NotNull(report.Ratios.Single(r => r.Name.StartsWith("protected / bare", StringComparison.Ordinal)).Value);
        Assert.NotNull(report.Ratios.Single(r => r.Name.StartsWith("protected / unprotected", StringComparison.Ordinal)).Value);
    }

    [Fact]
    public async Task Binary_wire_smoke_pass_answers_every_phase_with_200s()
    {
        var report = await RunAsync("--smoke", "--wire", "binary", "--phases", "bare,unprotected,protected", "--bare-batch", "8", "--bare-concurrency", "2");
        AssertEveryPhaseAnswered(report, "binary");
        Assert.Equal(8, report.Phases[0].Batch);
        Assert.Equal("binary", report.Wire);
    }

    [Fact]
    public async Task Binary_wire_smoke_pass_through_HttpClient_answers_every_phase_with_200s()
    {
        // The generator's own client is the default; HttpClient stays selectable for comparing the two.
        var report = await RunAsync("--smoke", "--wire", "binary", "--http-client", "httpclient", "--phases", "bare,unprotected,protected", "--bare-batch", "8", "--bare-concurrency", "2");
        AssertEveryPhaseAnswered(report, "binary");
    }

    [Fact]
    public async Task Grpc_wire_smoke_pass_with_a_synthetic_model_answers_every_phase_with_200s()
    {
        TinyModels.Classifier(_repository, "tiny", [3, 32, 32]);
        var report = await RunAsync("--smoke", "--wire", "grpc", "--model", "tiny", "--models", _repository,
            "--phases", "bare,unprotected,protected", "--bare-batch", "4", "--bare-concurrency", "2");
        AssertEveryPhaseAnswered(report, "grpc");
        Assert.Equal(4, report.Phases[0].Batch);
        Assert.StartsWith("synthetic", report.Images, StringComparison.Ordinal);
        // The tiny model has no squeezing calibration: the report says the protected server squeezed nothing.
        Assert.Contains(report.Notes, n => n.StartsWith("NOTE: tiny's config.json has no feature-squeezing calibration", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bare_onnx_runtime_feeds_an_fp16_graph_float16_rows_and_counts_items()
    {
        TinyModels.Fp16Flatten(_repository, "tiny16", [3, 8, 8]);
        var report = await RunAsync("--model", "tiny16", "--models", _repository, "--phases", "bare",
            "--bare-batch", "4", "--bare-concurrency", "2", "--duration", "0.5", "--warmup", "0.2");
        var bare = Assert.Single(report.Phases);
        Assert.Equal((PhaseNames.Bare, 4, 2, "cpu"), (bare.Name, bare.Batch, bare.Concurrency, bare.Device));
        Assert.True(bare.Ok > 0 && bare.Failed == 0);
        // Items, not Run calls: 4 rows per call.
        Assert.InRange(bare.Throughput / (bare.Ok * 4 / bare.DurationSeconds), 0.99, 1.01);
    }

    [Fact]
    public async Task Device_cuda_on_the_cpu_build_fails_and_says_how_to_build_for_it()
    {
        TinyModels.Fp16Flatten(_repository, "tiny16", [3, 8, 8]);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await LoadGenApp.RunAsync(["--model", "tiny16", "--models", _repository, "--phases", "bare", "--device", "cuda", "--duration", "0.2", "--warmup", "0"],
            stdout, stderr, CancellationToken.None);
        Assert.Equal(1, exit);
        Assert.Contains("OrtFlavor=Gpu", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Gpu_options_parse_and_defaults_stay_as_they_were()
    {
        var defaults = LoadGenOptions.Parse([]);
        Assert.Equal((Wire.Json, Device.Cpu, 1, 32, "fashion-mnist"), (defaults.Wire, defaults.Device, defaults.BareBatch, defaults.EffectiveBareConcurrency, defaults.Model));
        Assert.True(defaults is { RunBare: true, RunUnprotected: true, RunUnprotectedOpen: true, RunProtected: true, RunProtectedOneKey: true, RunProtectedOpen: true });

        var gpu = LoadGenOptions.Parse(["--model", "resnet50-fp16", "--wire", "grpc", "--device", "cuda", "--bare-batch", "32", "--bare-concurrency", "4",
            "--concurrency", "256", "--server-exe", "/tmp/app/ShieldCluster.Server", "--phases", "bare,unprotected,protected",
            "--server-env", "Shield__Inference__Device=cuda", "--server-env", "Shield__Inference__ConcurrentBatches=4"]);
        Assert.Equal(("resnet50-fp16", Wire.Grpc, Device.Cuda, 32, 4, 256), (gpu.Model, gpu.Wire, gpu.Device, gpu.BareBatch, gpu.EffectiveBareConcurrency, gpu.Concurrency));
        Assert.Equal("/tmp/app/ShieldCluster.Server", gpu.ServerExe);
        Assert.True(gpu is { RunBare: true, RunUnprotected: true, RunProtected: true, RunUnprotectedOpen: false, RunProtectedOneKey: false, RunProtectedOpen: false });
        Assert.Equal(2, gpu.ServerEnvironment.Count);

        Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--phases", "protected,one-key,open"]));
        var withRate = LoadGenOptions.Parse(["--phases", "protected,one-key,open", "--rate", "100"]);
        Assert.True(withRate is { RunBare: false, RunUnprotected: false, RunUnprotectedOpen: true, RunProtected: true, RunProtectedOneKey: true, RunProtectedOpen: true });
        Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--wire", "http3"]));
        Assert.Equal(HttpClientKind.Raw, LoadGenOptions.Parse([]).HttpClient);
        Assert.Equal(HttpClientKind.HttpClient, LoadGenOptions.Parse(["--http-client", "httpclient"]).HttpClient);
        Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--http-client", "curl"]));
        Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--device", "rocm"]));
        Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--bare-batch", "0"]));
        Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--phases", "bare,nope"]));
        Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--server-exe", "a", "--server-dll", "b"]));
    }

    [Fact]
    public async Task Calibrate_squeezing_gives_a_model_a_threshold_the_protected_server_loads()
    {
        TinyModels.Classifier(_repository, "tiny", [3, 8, 8]);
        Assert.False(ModelSpec.Load(Path.Combine(_repository, "tiny")).SqueezingCalibrated);

        var report = await RunAsync("--smoke", "--wire", "binary", "--model", "tiny", "--models", _repository, "--phases", "unprotected,protected",
            "--calibrate-squeezing", "bit-depth-2", "--calibrate-count", "300", "--calibrate-rate", "0.1");

        // The config now names the squeezer and holds a threshold for version 1, set on 300 inputs, with the
        // rate on 300 others: the servers started after it loaded the model (every phase answered 200s).
        var squeezing = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(_repository, "tiny", "config.json")))!["protection"]!["squeezing"]!;
        Assert.Equal("bit-depth-2", Assert.Single(squeezing["squeezers"]!.AsArray())!.GetValue<string>());
        Assert.Equal(0.1, squeezing["false_positive_rate"]!.GetValue<double>());
        Assert.True(squeezing["thresholds"]!["1"]!.GetValue<float>() >= 0);
        Assert.InRange(squeezing["calibration"]!["1"]!["held_out_false_positive_rate"]!.GetValue<double>(), 0, 0.5);
        Assert.True(ModelSpec.Load(Path.Combine(_repository, "tiny")).SqueezingCalibrated);
        Assert.DoesNotContain(report.Notes, n => n.Contains("no feature-squeezing calibration", StringComparison.Ordinal));
        Assert.All(report.Phases, p => Assert.True(p.Ok > 0 && p.Failed == 0, $"{p.Name}: {string.Join(", ", p.Statuses)}"));
    }

    [Fact]
    public void Calibrate_squeezing_takes_the_servers_squeezer_names_a_count_and_a_rate()
    {
        var o = LoadGenOptions.Parse(["--calibrate-squeezing", "bit-depth-5, median-2x2", "--calibrate-count", "50", "--calibrate-rate", "0.02"]);
        Assert.Equal(["bit-depth-5", "median-2x2"], o.CalibrateSqueezing);
        Assert.Equal((50, 0.02), (o.CalibrateCount, o.CalibrateRate));
        Assert.Empty(LoadGenOptions.Parse([]).CalibrateSqueezing);
        Assert.Contains("'blur'", Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--calibrate-squeezing", "bit-depth-5,blur"])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--calibrate-squeezing", "median-2x3"]));
        Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--calibrate-rate", "1"]));
        Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--calibrate-count", "0"]));
    }

    [Theory]
    [InlineData("""{"squeezing": {"squeezers": ["bit-depth-5"], "thresholds": {"1": 0.1}}}""", true)]
    [InlineData("""{"squeezing": {"squeezers": ["bit-depth-5"]}}""", false)]
    [InlineData("""{"squeezing": {"squeezers": [], "thresholds": {"1": 0.1}}}""", false)]
    [InlineData("""{"squeezing": {"squeezers": ["bit-depth-5"], "thresholds": {}}}""", false)]
    [InlineData("""{}""", false)]
    [InlineData(null, false)]
    public void A_model_counts_as_squeezing_only_with_squeezers_and_a_threshold(string? protection, bool calibrated)
    {
        TinyModels.Classifier(_repository, "tiny", [3, 8, 8]);
        var path = Path.Combine(_repository, "tiny", "config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        config.Remove("protection");
        if (protection is not null)
        {
            config["protection"] = System.Text.Json.Nodes.JsonNode.Parse(protection);
        }

        File.WriteAllText(path, config.ToJsonString());
        Assert.Equal(calibrated, ModelSpec.Load(Path.Combine(_repository, "tiny")).SqueezingCalibrated);
        Assert.True(ModelSpec.Load(Path.Combine(LoadGenApp.FindRepositoryRoot()!, "models", "fashion-mnist")).SqueezingCalibrated);
    }
}

/// <summary>
/// The request buffers of synthetic models (every wire, FP32 and FP16): shapes, sizes, values in the
/// declared range, a distinct request each time, rewritten in place in the worker's own buffer.
/// </summary>
public sealed class SyntheticRequestTests
{
    private static ModelSpec Spec(string datatype, float low = -1, float high = 2) => new()
    {
        Name = "synthetic",
        InputName = "input",
        Dims = [3, 8, 8],
        Datatype = datatype,
        Low = low,
        High = high,
        OutputName = "output",
        OutputElements = 1000,
        MaxBatchSize = 32,
    };

    private static float[] Values(RequestFactory factory, ReadOnlySpan<byte> tensor)
    {
        var values = new float[factory.Spec.Elements];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = factory.Spec.Fp16 ? (float)BinaryPrimitives.ReadHalfLittleEndian(tensor[(2 * i)..]) : BinaryPrimitives.ReadSingleLittleEndian(tensor[(4 * i)..]);
        }

        return values;
    }

    /// <summary>The 20-value windows of an image (Blacklight hashes these, quantised): two different images must share none.</summary>
    private static HashSet<string> Windows(float[] values) =>
        [.. Enumerable.Range(0, values.Length - 19).Select(i => string.Join(',', values.Skip(i).Take(20)))];

    [Theory]
    [InlineData("FP32")]
    [InlineData("FP16")]
    public void Binary_requests_carry_the_header_and_a_different_full_image_each_time(string datatype)
    {
        var spec = Spec(datatype);
        var factory = new RequestFactory(spec, SyntheticImages.Create(spec, seed: 7), Wire.Binary);
        var slot = factory.CreateSlot(0);
        var buffer = slot.Buffer;

        var headerLength = int.Parse(factory.HeaderLengthText, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(headerLength, slot.TensorOffset);
        using var header = JsonDocument.Parse(slot.Buffer.AsMemory(0, headerLength));
        var input = header.RootElement.GetProperty("inputs")[0];
        Assert.Equal("input", input.GetProperty("name").GetString());
        Assert.Equal([1, 3, 8, 8], input.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(datatype, input.GetProperty("datatype").GetString());
        var size = input.GetProperty("parameters").GetProperty("binary_data_size").GetInt32();
        Assert.Equal(192 * (datatype == "FP16" ? 2 : 4), size);
        Assert.Equal(headerLength + size, slot.Length);
        var requested = header.RootElement.GetProperty("outputs")[0];
        Assert.Equal("output", requested.GetProperty("name").GetString());
        Assert.True(requested.GetProperty("parameters").GetProperty("binary_data").GetBoolean());

        var headerBytes = slot.Buffer[..headerLength];
        var seen = new HashSet<string>();
        float[]? previous = null;
        foreach (var image in Enumerable.Range(0, 500).Concat([factory.Images.Count - 1, factory.Images.Count - 2]))
        {
            factory.Prepare(slot, image);
            Assert.Same(buffer, slot.Buffer);
            Assert.True(slot.Buffer.AsSpan(0, headerLength).SequenceEqual(headerBytes));
            var values = Values(factory, slot.Buffer.AsSpan(slot.TensorOffset, size));
            Assert.All(values, v => Assert.InRange(v, spec.Low, spec.High));
            Assert.True(seen.Add(Convert.ToHexString(slot.Buffer.AsSpan(slot.TensorOffset, size))), $"image {image} repeats an earlier one");
            if (previous is not null)
            {
                // Not a perturbation of the previous image: about 1 value in 256 equal by chance, no shared window.
                Assert.True(values.Zip(previous).Count(p => p.First == p.Second) < 20, $"image {image} is close to the previous one");
                Assert.Empty(Windows(values).Intersect(Windows(previous)));
            }

            previous = values;
        }

        // The same image again is the same request (each client walks its own stretch, so it never resends).
        var again = factory.CreateSlot(1);
        factory.Prepare(again, factory.Images.Count - 2);
        Assert.True(again.Buffer.AsSpan().SequenceEqual(slot.Buffer));
    }

    [Theory]
    [InlineData("FP32")]
    [InlineData("FP16")]
    public void Grpc_requests_wrap_the_slot_buffer_without_a_copy(string datatype)
    {
        var spec = Spec(datatype, 0, 1);
        var factory = new RequestFactory(spec, SyntheticImages.Create(spec, seed: 7), Wire.Grpc);
        var slots = Enumerable.Range(0, 6).Select(factory.CreateSlot).ToArray();
        var seen = new HashSet<string>();
        foreach (var round in Enumerable.Range(0, 50))
        {
            foreach (var slot in slots)
            {
                factory.Prepare(slot, round * slots.Length + slot.Index);
                var message = slot.Grpc!;
                Assert.Equal(("synthetic", "input", datatype), (message.ModelName, message.Inputs[0].Name, message.Inputs[0].Datatype));
                Assert.Equal([1L, 3, 8, 8], message.Inputs[0].Shape);
                Assert.Equal("output", message.Outputs[0].Name);
                // The message's raw input is the slot's buffer, so what was composed in place is on the wire.
                var parsed = ((IMessage)message).Descriptor.Parser.ParseFrom(message.ToByteArray());
                Assert.Equal(message, parsed);
                var raw = message.RawInputContents[0].ToByteArray();
                Assert.Equal(slot.Buffer, raw);
                Assert.Equal(factory.TensorBytes, raw.Length);
                Assert.All(Values(factory, raw), v => Assert.InRange(v, 0f, 1f));
                Assert.True(seen.Add(Convert.ToHexString(raw)), "a request repeats an earlier one");
            }
        }
    }

    [Theory]
    [InlineData("FP32")]
    [InlineData("FP16")]
    public void Json_requests_carry_the_same_values_as_the_binary_ones(string datatype)
    {
        var spec = Spec(datatype);
        var images = SyntheticImages.Create(spec, seed: 7);
        var json = new RequestFactory(spec, images, Wire.Json);
        var binary = new RequestFactory(spec, images, Wire.Binary);
        var slot = json.CreateSlot(1);
        var buffer = slot.Buffer;
        var binarySlot = binary.CreateSlot(1);
        for (var image = 0; image < 300; image++)
        {
            json.Prepare(slot, image);
            binary.Prepare(binarySlot, image);
            Assert.Same(buffer, slot.Buffer);
            using var doc = JsonDocument.Parse(slot.Buffer.AsMemory(0, slot.Length));
            var input = doc.RootElement.GetProperty("inputs")[0];
            Assert.Equal(datatype, input.GetProperty("datatype").GetString());
            Assert.Equal([1, 3, 8, 8], input.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
            var values = input.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.Equal(Values(binary, binarySlot.Buffer.AsSpan(binarySlot.TensorOffset, binary.TensorBytes)), values);
            Assert.All(values, v => Assert.InRange(v, spec.Low, spec.High));
            if (datatype == "FP16")
            {
                // Every value is exactly an FP16 value: the server reads what was meant.
                Assert.All(values, v => Assert.Equal(v, (float)(Half)v));
            }
        }
    }

    [Fact]
    public void A_range_too_narrow_for_fp16_is_refused_and_fp16_values_stay_inside_the_range()
    {
        Assert.Throws<InvalidOperationException>(() => SyntheticImages.Create(Spec("FP16", 1000, 1000.1f), seed: 1));
        Assert.Equal(SyntheticImages.NoiseBytes - 1, SyntheticImages.Create(Spec("FP32"), seed: 1).Count);
        var table = LevelTable.ForRange(0, 0.3f, fp16: true);
        Assert.All(table.Halves, h => Assert.InRange((float)h, 0f, 0.3f));
        Assert.True(table.DistinctLevels.Length > 200);
    }

    [Theory]
    [InlineData("json")]
    [InlineData("binary")]
    [InlineData("grpc")]
    public void Fashion_mnist_requests_carry_the_pool_images_as_the_json_bodies_did(string wireName)
    {
        var wire = Enum.Parse<Wire>(wireName, ignoreCase: true);
        var root = LoadGenApp.FindRepositoryRoot()!;
        var directory = Path.Combine(root, "models", "fashion-mnist");
        var pool = ImagePool.Load(directory);
        var spec = ModelSpec.Load(directory);
        Assert.Equal(("input", "probabilities", 10, "FP32"), (spec.InputName, spec.OutputName, spec.OutputElements, spec.Datatype));
        var factory = new RequestFactory(spec, pool, wire);
        var slot = factory.CreateSlot(0);
        var floats = new float[ImagePool.Pixels];
        foreach (var image in new[] { 0, 1, pool.Count - 1 })
        {
            factory.Prepare(slot, image);
            pool.Fill(image, floats);
            if (wire == Wire.Json)
            {
                Assert.Equal(pool.Body(image), slot.Buffer.AsSpan(0, slot.Length).ToArray());
            }
            else
            {
                Assert.Equal(floats, Values(factory, slot.Buffer.AsSpan(slot.TensorOffset, factory.TensorBytes)));
            }
        }
    }
}

/// <summary>The tests that start servers run one at a time (two cores).</summary>
[CollectionDefinition(Name)]
public sealed class ServerCollection
{
    public const string Name = "servers";
}
