using Microsoft.ML.OnnxRuntime;
using ShieldCluster.Protection.Features;
using ShieldCluster.Protection.Validation;

namespace ShieldCluster.Inference.Runtime;

/// <summary>
/// One loaded version of a model: its declaration and the single ONNX Runtime session that every
/// request for this version shares (sessions are thread-safe for concurrent <c>Run</c> calls).
/// </summary>
public sealed class ModelVersion : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    internal ModelVersion(string model, string version, int maxBatchSize, TensorSpec input, IReadOnlyList<TensorSpec> outputs,
        IReadOnlyList<string> labels, InferenceSession session, string provider)
    {
        Model = model;
        Version = version;
        MaxBatchSize = maxBatchSize;
        Input = input;
        Outputs = outputs;
        Labels = labels;
        Provider = provider;
        _session = session;
        _inputNames = [input.Name];
        _outputNames = [.. outputs.Select(o => o.Name)];
        Features = new QueryFeatureExtractor(input.ItemDims, input.Min ?? 0f, input.Max ?? 1f);
    }

    /// <summary>The model's name.</summary>
    public string Model { get; }

    /// <summary>The version, as the protocol shows it (a string of digits).</summary>
    public string Version { get; }

    /// <summary>The model's <c>max_batch_size</c>; 0 means no batch dimension.</summary>
    public int MaxBatchSize { get; }

    /// <summary>The model's single input.</summary>
    public TensorSpec Input { get; }

    /// <summary>The model's outputs, in session order.</summary>
    public IReadOnlyList<TensorSpec> Outputs { get; }

    /// <summary>Class labels in output order (empty if the model declares none).</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The execution provider this session runs on.</summary>
    public string Provider { get; }

    /// <summary>Reduces input items to the compact features kept in client histories.</summary>
    public QueryFeatureExtractor Features { get; }

    /// <summary>
    /// Runs a whole batch as one ONNX Runtime call.
    /// </summary>
    /// <param name="input">The input values, row-major; exactly <paramref name="batchSize"/> items.</param>
    /// <param name="batchSize">Items in the batch (1 for an unbatched model).</param>
    /// <returns>Each output's values, in <see cref="Outputs"/> order.</returns>
    public float[][] Run(ReadOnlyMemory<float> input, int batchSize)
    {
        long[] shape = MaxBatchSize > 0 ? [batchSize, .. Input.ItemDims] : [.. Input.ItemDims];
        var expected = shape.Aggregate(1L, (a, d) => a * d);
        if (input.Length != expected)
        {
            throw new ArgumentException($"expected {expected} values for shape {TensorValidator.Format(shape)}, got {input.Length}", nameof(input));
        }

        // ONNX Runtime reads the input in place; the cast only satisfies the API's Memory<T> parameter.
        var memory = System.Runtime.InteropServices.MemoryMarshal.AsMemory(input);
        using var inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, memory, shape);
        using var results = _session.Run(_runOptions, _inputNames, [inputValue], _outputNames);
        var outputs = new float[results.Count][];
        for (var i = 0; i < results.Count; i++)
        {
            outputs[i] = results[i].GetTensorDataAsSpan<float>().ToArray();
        }

        return outputs;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
