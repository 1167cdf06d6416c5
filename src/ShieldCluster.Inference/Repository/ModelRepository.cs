using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ShieldCluster.Inference.Runtime;
using ShieldCluster.Inference.Batching;
using ShieldCluster.Inference.Squeezing;
using ShieldCluster.Protection.Validation;

namespace ShieldCluster.Inference.Repository;

/// <summary>
/// The model repository, laid out like Triton's: <c>&lt;root&gt;/&lt;model&gt;/config.json</c> and
/// <c>&lt;root&gt;/&lt;model&gt;/&lt;version&gt;/model.onnx</c>. Every file of a version must match the
/// SHA-256 that <c>config.json</c> lists for it; a version that fails is refused and logged, and the
/// other versions and models still load.
/// </summary>
public sealed partial class ModelRepository : IDisposable
{
    /// <summary>Calls in flight per model on CUDA unless configured (see <see cref="InferenceOptions.ConcurrentBatches"/>).</summary>
    internal const int DefaultCudaBatches = 4;

    private readonly Dictionary<string, ServedModel> _models = new(StringComparer.Ordinal);
    private readonly ILogger<ModelRepository> _logger;
    private readonly InferenceOptions _options;

    /// <summary>Loads every model under the configured repository directory.</summary>
    public ModelRepository(IOptions<InferenceOptions> options, ExecutionProviderSelector providers, ILogger<ModelRepository> logger)
    {
        _logger = logger;
        _options = options.Value;
        var configured = options.Value.ModelRepository;
        Root = Resolve(configured)
            ?? throw new InvalidOperationException($"Shield:Inference:ModelRepository: directory '{configured}' does not exist");
        foreach (var directory in Directory.EnumerateDirectories(Root).Order(StringComparer.Ordinal))
        {
            var model = TryLoadModel(directory, providers);
            if (model is not null)
            {
                _models[model.Name] = model;
            }
        }
    }

    /// <summary>The repository's absolute path.</summary>
    public string Root { get; }

    /// <summary>Every model with at least one loaded version.</summary>
    public IReadOnlyCollection<ServedModel> Models => _models.Values;

    /// <summary>The model named <paramref name="name"/>, if loaded.</summary>
    public ServedModel? Find(string name) => _models.GetValueOrDefault(name);

    /// <summary>The version of a model a request names (latest when null), if loaded.</summary>
    public ModelVersion? Find(string name, string? version) => Find(name)?.Get(version);

    /// <summary>
    /// Resolves a repository path: absolute as given; relative against the working directory, then
    /// against each directory above the application's base directory.
    /// </summary>
    public static string? Resolve(string path)
    {
        if (Path.IsPathRooted(path))
        {
            return Directory.Exists(path) ? Path.GetFullPath(path) : null;
        }

        var fromWorkingDirectory = Path.GetFullPath(path);
        if (Directory.Exists(fromWorkingDirectory))
        {
            return fromWorkingDirectory;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, path);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private ServedModel? TryLoadModel(string directory, ExecutionProviderSelector providers)
    {
        var name = Path.GetFileName(directory);
        var configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath))
        {
            return null;
        }

        ModelConfig config;
        try
        {
            config = JsonSerializer.Deserialize<ModelConfig>(File.ReadAllText(configPath))
                ?? throw new JsonException("config.json is empty");
        }
        catch (JsonException ex)
        {
            Log.ModelRefused(_logger, name, "*", $"config.json is not valid: {ex.Message}");
            return null;
        }

        var problem = CheckConfig(name, config);
        if (problem is not null)
        {
            Log.ModelRefused(_logger, name, "*", problem);
            return null;
        }

        var input = ToSpec(config.Input[0]);
        var outputs = config.Output.Select(ToSpec).ToArray();
        SqueezingSettings? squeezing;
        try
        {
            squeezing = SqueezingSettings.Parse(config.Protection, input);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            Log.ModelRefused(_logger, name, "*", $"protection.squeezing is not valid: {ex.Message}");
            return null;
        }

        var versions = new List<ModelVersion>();
        var numbered = Directory.EnumerateDirectories(directory)
            .Select(d => (Path: d, Name: Path.GetFileName(d)))
            .Where(d => d.Name.All(char.IsAsciiDigit) && d.Name.Length is > 0 and < 18)
            .OrderBy(d => long.Parse(d.Name, CultureInfo.InvariantCulture));
        foreach (var (path, version) in numbered)
        {
            var integrity = CheckIntegrity(config, version, path);
            if (integrity is not null)
            {
                Log.ModelRefused(_logger, name, version, integrity);
                continue;
            }

            try
            {
                var sessionOptions = providers.Create();
                var session = new InferenceSession(Path.Combine(path, "model.onnx"), sessionOptions);
                var mismatch = CheckGraph(session, config);
                if (mismatch is not null)
                {
                    session.Dispose();
                    Log.ModelRefused(_logger, name, version, mismatch);
                    continue;
                }

                var loaded = new ModelVersion(name, version, config.MaxBatchSize, input, outputs, config.Labels ?? [], session, providers.Provider, squeezing);
                if (providers.Provider == "CUDA" && _options.PinnedInputs)
                {
                    if (loaded.UsePinnedInputs(_options.DeviceId))
                    {
                        Log.PinnedInputs(_logger, name, version);
                    }
                    else
                    {
                        Log.NoPinnedInputs(_logger, name, version);
                    }
                }

                var cuda = providers.Provider == "CUDA";
                var pad = _options.PadBatches == BatchPadding.Always || (_options.PadBatches == BatchPadding.Auto && providers.Provider == "CUDA");
                if (pad && config.MaxBatchSize > 1)
                {
                    var warmUp = System.Diagnostics.Stopwatch.StartNew();
                    loaded.PadBatches();
                    Log.WarmedUp(_logger, name, version, string.Join(", ", loaded.BatchSizes), warmUp.ElapsedMilliseconds);
                }
                if (config.DynamicBatching is { } batching && config.MaxBatchSize > 0)
                {
                    // The runners wait in whole milliseconds; rounded down, a batch never waits past
                    // the configured maximum.
                    var delayMicroseconds = Math.Max(0, batching.MaxQueueDelayMicroseconds);
                    var delayMilliseconds = delayMicroseconds / 1000;
                    if (delayMicroseconds % 1000 != 0)
                    {
                        Log.QueueDelayRounded(_logger, name, version, delayMicroseconds, delayMilliseconds);
                    }

                    loaded.EnableBatching(new BatchingSettings(
                        config.MaxBatchSize,
                        TimeSpan.FromMilliseconds(delayMilliseconds),
                        batching.PreferredBatchSize ?? [],
                        _options.MaxQueuedItems,
                        _options.ConcurrentBatches > 0 ? _options.ConcurrentBatches : cuda ? DefaultCudaBatches : Environment.ProcessorCount,
                        _options.StagedBatches ?? (cuda ? 1 : 0)));
                }

                versions.Add(loaded);
                Log.ModelLoaded(_logger, name, version, providers.Provider);
            }
            catch (OnnxRuntimeException ex)
            {
                Log.ModelRefused(_logger, name, version, $"ONNX Runtime cannot load it: {ex.Message}");
            }
        }

        return versions.Count == 0 ? null : new ServedModel(name, config.Platform, versions);
    }

    private static string? CheckConfig(string directoryName, ModelConfig config)
    {
        if (config.Name != directoryName)
        {
            return $"config.json names the model '{config.Name}' but its directory is '{directoryName}'";
        }

        if (config.Platform != "onnxruntime_onnx")
        {
            return $"platform '{config.Platform}' is not served (only onnxruntime_onnx)";
        }

        if (config.MaxBatchSize < 0)
        {
            return "max_batch_size must not be negative";
        }

        if (config.Input.Count != 1)
        {
            return $"exactly one input is served; config.json declares {config.Input.Count}";
        }

        if (config.Output.Count == 0)
        {
            return "config.json declares no output";
        }

        if (config.Input[0].DataType is not ("TYPE_FP32" or "TYPE_FP16"))
        {
            return $"input '{config.Input[0].Name}' has data_type {config.Input[0].DataType}; inputs are served as TYPE_FP32 or TYPE_FP16";
        }

        foreach (var output in config.Output.Where(o => o.DataType != "TYPE_FP32"))
        {
            return $"output '{output.Name}' has data_type {output.DataType}; outputs are served as TYPE_FP32 (an fp16 graph's outputs are widened)";
        }

        foreach (var tensor in config.Input.Concat(config.Output))
        {

            if (tensor.Dims.Count == 0 || tensor.Dims.Any(d => d <= 0))
            {
                return $"tensor '{tensor.Name}' needs positive dims";
            }

            if (tensor.Range is { } range && (range.Count != 2 || !(range[0] <= range[1])))
            {
                return $"tensor '{tensor.Name}' has a range that is not [min, max]";
            }
        }

        return null;
    }

    private static string? CheckIntegrity(ModelConfig config, string version, string path)
    {
        if (!config.Sha256.TryGetValue(version, out var digests) || digests.Count == 0)
        {
            return "config.json lists no sha256 for this version";
        }

        if (!digests.ContainsKey("model.onnx"))
        {
            return "config.json lists no sha256 for model.onnx";
        }

        foreach (var file in Directory.EnumerateFiles(path))
        {
            if (!digests.ContainsKey(Path.GetFileName(file)))
            {
                return $"file '{Path.GetFileName(file)}' has no sha256 in config.json";
            }
        }

        foreach (var (file, expected) in digests)
        {
            var full = Path.Combine(path, file);
            if (file.Contains('/', StringComparison.Ordinal) || file.Contains('\\', StringComparison.Ordinal) || !File.Exists(full))
            {
                return $"file '{file}' listed in config.json is missing";
            }

            using var stream = File.OpenRead(full);
            var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            {
                return $"sha256 of '{file}' is {actual}, config.json expects {expected}";
            }
        }

        return null;
    }

    private static string? CheckGraph(InferenceSession session, ModelConfig config)
    {
        foreach (var input in config.Input.Where(i => !session.InputMetadata.ContainsKey(i.Name)))
        {
            return $"the ONNX graph has no input '{input.Name}'";
        }

        foreach (var output in config.Output.Where(o => !session.OutputMetadata.ContainsKey(o.Name)))
        {
            return $"the ONNX graph has no output '{output.Name}'";
        }

        foreach (var (name, metadata) in session.InputMetadata.Concat(session.OutputMetadata))
        {
            if (metadata.ElementDataType is not (TensorElementType.Float or TensorElementType.Float16))
            {
                return $"the ONNX graph's tensor '{name}' is {metadata.ElementDataType}; only float and float16 graphs are served";
            }
        }

        return null;
    }

    private static TensorSpec ToSpec(TensorConfig tensor) => new(
        tensor.Name,
        tensor.DataType["TYPE_".Length..],
        [.. tensor.Dims],
        tensor.Range?[0],
        tensor.Range?[1]);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var version in _models.Values.SelectMany(m => m.Versions))
        {
            version.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(6, LogLevel.Warning, "Model {Model} version {Version}: max_queue_delay_microseconds {Microseconds} is rounded down to {Milliseconds} ms (batches wait in whole milliseconds)")]
        public static partial void QueueDelayRounded(ILogger logger, string model, string version, int microseconds, int milliseconds);

        [LoggerMessage(1, LogLevel.Information, "Model {Model} version {Version} loaded on {Provider}")]
        public static partial void ModelLoaded(ILogger logger, string model, string version, string provider);

        [LoggerMessage(3, LogLevel.Information, "Model {Model} version {Version}: batches padded to {Sizes}, each run once in {Milliseconds} ms")]
        public static partial void WarmedUp(ILogger logger, string model, string version, string sizes, long milliseconds);

        [LoggerMessage(2, LogLevel.Error, "Model {Model} version {Version} refused: {Reason}")]
        public static partial void ModelRefused(ILogger logger, string model, string version, string reason);

        [LoggerMessage(4, LogLevel.Information, "Model {Model} version {Version}: batches written into CUDA pinned host memory")]
        public static partial void PinnedInputs(ILogger logger, string model, string version);

        [LoggerMessage(5, LogLevel.Warning, "Model {Model} version {Version}: the CUDA session offers no pinned host memory; batches are copied from managed memory")]
        public static partial void NoPinnedInputs(ILogger logger, string model, string version);
    }
}
