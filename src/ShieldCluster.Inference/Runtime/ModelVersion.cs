using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ShieldCluster.Inference.Batching;
using ShieldCluster.Inference.Squeezing;
using ShieldCluster.Protection.Features;
using ShieldCluster.Protection.InputFilters;
using ShieldCluster.Protection.Numerics;
using ShieldCluster.Protection.Validation;

namespace ShieldCluster.Inference.Runtime;

/// <summary>
/// One loaded version of a model: its declaration and the single ONNX Runtime session that every
/// request for this version shares (sessions are thread-safe for concurrent <c>Run</c> calls).
/// </summary>
public sealed class ModelVersion : IDisposable
{
    private DynamicBatcher? _batcher;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private InputStaging _staging;
    private SemaphoreSlim? _calls;

    internal ModelVersion(string model, string version, int maxBatchSize, TensorSpec input, IReadOnlyList<TensorSpec> outputs,
        IReadOnlyList<string> labels, InferenceSession session, string provider, SqueezingSettings? squeezing)
    {
        Squeezers = squeezing?.Squeezers ?? [];
        SqueezeThreshold = squeezing is not null && squeezing.Thresholds.TryGetValue(version, out var threshold) ? threshold : null;
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
        HalfPrecision = session.InputMetadata[input.Name].ElementDataType == TensorElementType.Float16;
        Features = new QueryFeatureExtractor(input.ItemDims, input.Min ?? 0f, input.Max ?? 1f);
        _staging = InputStaging.Managed(HalfPrecision);
    }

    /// <summary>The model's name.</summary>
    public string Model { get; }

    /// <summary>The sizes batches are padded up to; empty when each batch runs at its own size.</summary>
    public IReadOnlyList<int> BatchSizes { get; private set; } = [];

    /// <summary>
    /// Pads every batch up to the next of a few fixed sizes (powers of two up to
    /// <see cref="MaxBatchSize"/>, and that maximum) and runs each size once now with zeros, so that
    /// per-shape work (cuDNN's algorithm search) happens at load, not under traffic. Padding rows are
    /// zeros and their outputs are dropped.
    /// </summary>
    internal void PadBatches()
    {
        var sizes = new List<int>();
        for (var size = 1; size < MaxBatchSize; size *= 2)
        {
            sizes.Add(size);
        }

        sizes.Add(MaxBatchSize);
        BatchSizes = sizes;
        foreach (var size in sizes)
        {
            Run(new float[size * (int)Input.ItemLength], size);
        }
    }

    /// <summary>This version's dynamic batcher, when its config asks for dynamic batching.</summary>
    public DynamicBatcher? Batcher => _batcher;

    /// <summary>
    /// Turns on dynamic batching for this version. With runners staged ahead, at most
    /// <see cref="BatchingSettings.ConcurrentBatches"/> ONNX Runtime calls run at once; the other
    /// runners write their batches into the model's input meanwhile and wait for a call.
    /// </summary>
    internal void EnableBatching(BatchingSettings settings)
    {
        _calls = settings.StagedAhead > 0 ? new SemaphoreSlim(settings.ConcurrentBatches, settings.ConcurrentBatches) : null;
        // A squeezed item's copies ride in its call: counted as rows, they keep a batch within the
        // sizes warmed at load (PadBatches) and the page-locked blocks, instead of an unseen shape
        // (on CUDA, a cuDNN algorithm search under traffic) in a pageable buffer.
        var rows = SqueezeThreshold is not null && Squeezers.Count > 0 ? 1 + Squeezers.Count : 1;
        _batcher = new DynamicBatcher(RunOnce, settings with { RowsPerSqueezedItem = rows });
    }

    /// <summary>
    /// Runs <paramref name="batchSize"/> items through the batcher when there is one (with other
    /// clients' requests), else as one call of its own; squeezed copies in the same call when asked.
    /// </summary>
    /// <remarks>
    /// <paramref name="halves"/>: the input in half precision as it came, with <paramref name="input"/>
    /// empty (else empty): copied as it is into an fp16 model's batch, widened only where FP32 values
    /// are needed (an FP32 graph, squeezed copies).
    /// </remarks>
    public Task<BatchRun> InferAsync(ReadOnlyMemory<float> input, int batchSize, bool squeeze, ReadOnlyMemory<Half> halves = default) =>
        _batcher is { } batcher
            ? batcher.SubmitAsync(input, batchSize, squeeze, halves)
            : Task.FromResult(RunOnce(new BatchInput([input], [halves]), batchSize, squeeze ? batchSize : 0));

    /// <summary>One call for <paramref name="items"/> items, the first <paramref name="squeezed"/> with their squeezed copies (when this version squeezes).</summary>
    private BatchRun RunOnce(BatchInput input, int items, int squeezed) =>
        squeezed > 0 && SqueezeThreshold is not null && Squeezers.Count > 0 && MaxBatchSize > 0
            ? RunSqueezed(input, items, squeezed)
            : new BatchRun(Run(input, items));

    /// <summary>
    /// Writes batches into page-locked host memory from the session's CUDA pinned allocator, so the
    /// copy to the GPU is a DMA transfer; false (managed buffers kept) when the session has none.
    /// </summary>
    internal bool UsePinnedInputs(int deviceId)
    {
        var capacity = Math.Max(1, MaxBatchSize) * (int)Input.ItemLength;
        if (InputStaging.TryPinned(_session, deviceId, HalfPrecision, capacity) is not { } pinned)
        {
            return false;
        }

        _staging.Dispose();
        _staging = pinned;
        return true;
    }

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

    /// <summary>
    /// True when the ONNX graph takes float16 (an fp16 model): the server keeps FP32 values and
    /// converts at the ONNX Runtime boundary, float16 in and float16 outputs widened to FP32.
    /// </summary>
    public bool HalfPrecision { get; }

    /// <summary>The execution provider this session runs on.</summary>
    public string Provider { get; }

    /// <summary>Reduces input items to the compact features kept in client histories.</summary>
    public QueryFeatureExtractor Features { get; }

    /// <summary>The feature squeezers declared in the model's config (empty: none).</summary>
    public IReadOnlyList<ISqueezer> Squeezers { get; }

    /// <summary>This version's calibrated squeezing threshold; null when not calibrated (no squeezing).</summary>
    public float? SqueezeThreshold { get; }

    /// <summary>
    /// Runs a batch together with each item's squeezed copies as ONE ONNX Runtime call of
    /// <c>batchSize × (1 + squeezers)</c> rows, and scores each item (Xu et al., NDSS 2018).
    /// </summary>
    public SqueezedRun RunWithSqueezing(ReadOnlyMemory<float> input, int batchSize)
    {
        if (Squeezers.Count == 0 || MaxBatchSize == 0)
        {
            throw new InvalidOperationException($"model {Model} version {Version} has no squeezers or no batch dimension");
        }

        var itemLength = (int)Input.ItemLength;
        if (input.Length != batchSize * itemLength)
        {
            throw new ArgumentException($"expected {batchSize * itemLength} values, got {input.Length}", nameof(input));
        }

        var run = RunSqueezed(new BatchInput(input), batchSize, batchSize);
        return new SqueezedRun(run.Outputs, run.Scores!, run.SqueezedScores!);
    }

    /// <summary>
    /// One ONNX Runtime call for <paramref name="items"/> items: each of the first
    /// <paramref name="squeezed"/> followed by its squeezed copies, then the rest as they are
    /// (<c>squeezed × (1 + squeezers) + the rest</c> rows). Answers every item's rows, and the
    /// squeezed items' scores and their copies' scores.
    /// </summary>
    private BatchRun RunSqueezed(BatchInput input, int items, int squeezed)
    {
        var itemLength = (int)Input.ItemLength;
        var copies = 1 + Squeezers.Count;
        var (head, tail) = input.Split(squeezed * itemLength);

        // Read in place when the squeezed requests are one FP32 part (a request alone); joined otherwise.
        // The joined copy and the block of originals and copies are pooled: ONNX Runtime's call is
        // synchronous and reads the block in place or copies it to its staging, and neither is kept
        // after it (a third of the protected CPU server's float[] bytes were these, session 23).
        var joined = head.TryGetSingle(out var single) ? null : ArrayPool<float>.Shared.Rent(head.Length);
        var blockLength = squeezed * copies * itemLength;
        var block = ArrayPool<float>.Shared.Rent(blockLength);
        float[][] all;
        var plain = items - squeezed;
        var rows = (squeezed * copies) + plain;
        try
        {
            ReadOnlyMemory<float> originals = single;
            if (joined is not null)
            {
                head.CopyTo(joined);
                originals = joined.AsMemory(0, head.Length);
            }

            for (var i = 0; i < squeezed; i++)
            {
                FeatureSqueezingDetector.WriteBatch(originals.Span.Slice(i * itemLength, itemLength), Squeezers, block.AsSpan(i * copies * itemLength, copies * itemLength));
            }

            all = Run(tail.Prepend(block.AsMemory(0, blockLength)), rows);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(block);
            if (joined is not null)
            {
                ArrayPool<float>.Shared.Return(joined);
            }
        }
        var outputs = new float[all.Length][];
        for (var o = 0; o < all.Length; o++)
        {
            var row = all[o].Length / rows;
            outputs[o] = new float[items * row];
            for (var i = 0; i < squeezed; i++)
            {
                all[o].AsSpan(i * copies * row, row).CopyTo(outputs[o].AsSpan(i * row, row));
            }

            all[o].AsSpan(squeezed * copies * row, plain * row).CopyTo(outputs[o].AsSpan(squeezed * row));
        }

        var classes = all[0].Length / rows;
        var scores = new float[squeezed];
        var squeezedScores = new float[squeezed * Squeezers.Count * classes];
        for (var i = 0; i < squeezed; i++)
        {
            var group = all[0].AsSpan(i * copies * classes, copies * classes);
            scores[i] = FeatureSqueezingDetector.Score(group[..classes], group[classes..], classes);
            group[classes..].CopyTo(squeezedScores.AsSpan(i * Squeezers.Count * classes));
        }

        return new BatchRun(outputs, scores, squeezedScores);
    }

    /// <summary>
    /// Runs a whole batch as one ONNX Runtime call.
    /// </summary>
    /// <param name="input">The input values, row-major; exactly <paramref name="batchSize"/> items.</param>
    /// <param name="batchSize">Items in the batch (1 for an unbatched model).</param>
    /// <returns>Each output's values, in <see cref="Outputs"/> order.</returns>
    public float[][] Run(ReadOnlyMemory<float> input, int batchSize) => Run(new BatchInput(input), batchSize);

    private float[][] Run(BatchInput input, int batchSize)
    {
        long[] shape = MaxBatchSize > 0 ? [batchSize, .. Input.ItemDims] : [.. Input.ItemDims];
        var expected = shape.Aggregate(1L, (a, d) => a * d);
        if (input.Length != expected)
        {
            throw new ArgumentException($"expected {expected} values for shape {TensorValidator.Format(shape)}, got {input.Length}", nameof(input));
        }

        var padded = PaddedSize(batchSize);
        if (padded == batchSize && !HalfPrecision && !_staging.Pinned && input.TryGetSingle(out var single))
        {
            // ONNX Runtime reads the input in place; the cast only satisfies the API's Memory<T> parameter.
            using var direct = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, MemoryMarshal.AsMemory(single), shape);
            using var directResults = Call(direct);
            return ReadOutputs(directResults, batchSize, batchSize);
        }

        // One write of every request's input into what ONNX Runtime reads: padded with zero rows up
        // to the batch size warmed at load, converted for an fp16 graph.
        shape[0] = MaxBatchSize > 0 ? padded : shape[0];
        using var staged = _staging.Rent(checked((int)(expected / batchSize * padded)));
        staged.Write(input);
        using var value = staged.CreateValue(shape);
        using var results = Call(value);
        return ReadOutputs(results, batchSize, padded);
    }

    /// <summary>One ONNX Runtime call, once one of the batcher's call slots is free (when it bounds them).</summary>
    private IDisposableReadOnlyCollection<OrtValue> Call(OrtValue input)
    {
        var calls = _calls;
        calls?.Wait();
        try
        {
            return _session.Run(_runOptions, _inputNames, [input], _outputNames);
        }
        finally
        {
            calls?.Release();
        }
    }

    /// <summary>Each output's first <paramref name="batchSize"/> rows of <paramref name="padded"/>, as FP32.</summary>
    private static float[][] ReadOutputs(IDisposableReadOnlyCollection<OrtValue> results, int batchSize, int padded)
    {
        var outputs = new float[results.Count][];
        for (var i = 0; i < results.Count; i++)
        {
            var value = results[i];
            if (value.GetTensorTypeAndShape().ElementDataType == TensorElementType.Float16)
            {
                var halves = MemoryMarshal.Cast<Float16, Half>(value.GetTensorDataAsSpan<Float16>());
                halves = halves[..(halves.Length / padded * batchSize)];
                outputs[i] = new float[halves.Length];
                HalfWidening.Widen(halves, outputs[i]);
            }
            else
            {
                var values = value.GetTensorDataAsSpan<float>();
                outputs[i] = values[..(values.Length / padded * batchSize)].ToArray();
            }
        }

        return outputs;
    }

    /// <summary>The size a batch of <paramref name="batchSize"/> items runs at (see <see cref="PadBatches"/>).</summary>
    private int PaddedSize(int batchSize)
    {
        foreach (var size in BatchSizes)
        {
            if (size >= batchSize)
            {
                return size;
            }
        }

        return batchSize;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _batcher?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _staging.Dispose();
        _session.Dispose();
        _runOptions.Dispose();
        _calls?.Dispose();
    }
}
