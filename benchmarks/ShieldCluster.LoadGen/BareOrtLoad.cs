using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ShieldCluster.LoadGen;

/// <summary>Where bare ONNX Runtime runs the model.</summary>
internal enum Device
{
    Cpu,

    /// <summary>The CUDA execution provider on device 0 (needs the GPU build: -p:OrtFlavor=Gpu).</summary>
    Cuda,
}

/// <summary>
/// The baseline without any server: the model's ONNX Runtime session in this process, with the
/// server's session options (src/ShieldCluster.Inference/Runtime/ExecutionProviderSelector.cs: all
/// graph optimisations, sequential execution, 1 intra-op and 1 inter-op thread: the default
/// Shield:Inference:IntraOpThreads; with <see cref="Device.Cuda"/> the CUDA provider on device 0 with
/// cudnn_conv_algo_search EXHAUSTIVE, the server's default), run by <c>concurrency</c> threads each
/// calling <c>Run</c> synchronously on <c>batch</c> rows of the same images (ONNX Runtime sessions are
/// thread-safe for concurrent runs; with one intra-op thread a CPU run executes on its caller).
/// Throughput counts items (rows), so a batched baseline compares with batch-1 clients.
/// </summary>
internal static class BareOrtLoad
{
    /// <summary>Session options as the server builds them for <paramref name="device"/>.</summary>
    public static SessionOptions CreateOptions(Device device)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
        };
        if (device == Device.Cuda)
        {
            try
            {
                using var cuda = new OrtCUDAProviderOptions();
                cuda.UpdateOptions(new Dictionary<string, string> { ["device_id"] = "0", ["cudnn_conv_algo_search"] = "EXHAUSTIVE" });
                options.AppendExecutionProvider_CUDA(cuda);
            }
            catch (Exception ex) when (ex is EntryPointNotFoundException or OnnxRuntimeException or DllNotFoundException)
            {
                options.Dispose();
                throw new InvalidOperationException(
                    $"--device cuda: the CUDA execution provider cannot load ({ex.Message.Trim()}); the generator must be built with -p:OrtFlavor=Gpu and find CUDA and cuDNN (LD_LIBRARY_PATH)", ex);
            }
        }

        return options;
    }

    /// <param name="squeezed">Two rows per item: the image and its bit-depth-3 squeezed copy, the
    /// extra inference the protected server's feature squeezing adds to each request.</param>
    public static async Task<PhaseResult> ClosedLoopAsync(string name, string modelPath, ModelSpec spec, IInputImages images, Device device, int batch,
        int concurrency, bool squeezed, TimeSpan warmup, TimeSpan duration, TextWriter log, CancellationToken cancellation)
    {
        using var options = CreateOptions(device);
        using var session = new InferenceSession(modelPath, options);
        using var runOptions = new RunOptions();
        var inputName = session.InputMetadata.ContainsKey(spec.InputName) ? spec.InputName : session.InputMetadata.Keys.Single();
        var fp16 = session.InputMetadata[inputName].ElementDataType == TensorElementType.Float16;
        string[] inputNames = [inputName];
        string[] outputNames = [.. session.OutputMetadata.Keys];
        var outputIndex = Math.Max(0, Array.IndexOf(outputNames, spec.OutputName));
        var elements = spec.Elements;
        var rows = squeezed ? 2 * batch : batch;
        long[] shape = [rows, .. spec.Dims.Select(d => (long)d)];
        var table = images.Table;

        var logs = Enumerable.Range(0, concurrency).Select(_ => new WorkerLog()).ToArray();
        var cursor = new ImageCursor(images.Count, concurrency);
        long measureStart = long.MaxValue, measureEnd = long.MaxValue;
        var errors = new List<Exception>();

        // Rows 0..batch-1: images; with squeezing rows batch..2*batch-1 their bit-depth-3 copies.
        void Fill(int worker, long run, float[] input, byte[] scratch)
        {
            for (var r = 0; r < batch; r++)
            {
                // Real images: the worker's cursor, a new image per row and run. Synthetic: the rows of the first run stay
                // (the model alone does not care whether inputs repeat; composing them is the generator's work, not the baseline's).
                if (!images.Synthetic || run == 0)
                {
                    var image = images.Synthetic ? (worker * batch + r) % images.Count : cursor.Next(worker);
                    var levels = images.Levels(image, scratch);
                    var row = input.AsSpan(r * elements, elements);
                    for (var i = 0; i < elements; i++)
                    {
                        row[i] = table.Floats[levels[i]];
                    }
                }

                if (squeezed)
                {
                    // Bit depth 3 over the declared range: low + round((x - low) / (high - low) * 7) / 7 * (high - low).
                    var span = spec.High - spec.Low;
                    var source = input.AsSpan(r * elements, elements);
                    var copy = input.AsSpan((batch + r) * elements, elements);
                    for (var i = 0; i < elements; i++)
                    {
                        copy[i] = span > 0 ? spec.Low + MathF.Round((source[i] - spec.Low) / span * 7) / 7 * span : source[i];
                    }
                }
            }
        }

        void Worker(int w)
        {
            var input = new float[rows * elements];
            var halves = fp16 ? new Float16[rows * elements] : null;
            var rowScratch = new byte[images.Synthetic ? elements : 0];
            var log = logs[w];
            OrtValue? value = null;
            try
            {
                // One input tensor per worker over its pinned buffer, rewritten in place between runs.
                value = fp16
                    ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, halves.AsMemory(), shape)
                    : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input.AsMemory(), shape);
                var expected = (long)rows * spec.OutputElements;
                for (long run = 0; !cancellation.IsCancellationRequested; run++)
                {
                    if (!images.Synthetic || run == 0)
                    {
                        Fill(w, run, input, rowScratch);
                        if (halves is not null)
                        {
                            var asHalf = MemoryMarshal.Cast<Float16, Half>(halves.AsSpan());
                            for (var i = 0; i < input.Length; i++)
                            {
                                asHalf[i] = (Half)input[i];
                            }
                        }
                    }

                    var t0 = Stopwatch.GetTimestamp();
                    using (var results = session.Run(runOptions, inputNames, [value], outputNames))
                    {
                        var output = results[outputIndex];
                        var info = output.GetTensorTypeAndShape();
                        if (info.ElementCount != expected)
                        {
                            throw new InvalidOperationException($"unexpected output of {info.ElementCount} values ({expected} expected: {rows} rows of {spec.OutputElements})");
                        }

                        // Touch the answer as a client would (an fp16 graph's outputs are Float16).
                        _ = info.ElementDataType == TensorElementType.Float16
                            ? (float)(Half)MemoryMarshal.Cast<Float16, Half>(output.GetTensorDataAsSpan<Float16>())[0]
                            : output.GetTensorDataAsSpan<float>()[0];
                    }

                    var t1 = Stopwatch.GetTimestamp();
                    if (t1 > Volatile.Read(ref measureEnd))
                    {
                        return;
                    }

                    if (t1 >= Volatile.Read(ref measureStart))
                    {
                        log.Add(200, t1 - t0, t1);
                    }
                }
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or InvalidOperationException)
            {
                lock (errors)
                {
                    errors.Add(ex);
                }
            }
            finally
            {
                value?.Dispose();
            }
        }

        log.WriteLine($"[{name}] closed loop in process on {device.ToString().ToUpperInvariant()}, {concurrency} threads calling Run on batch {batch}{(squeezed ? " (+ the squeezed copies: 2 rows per item)" : "")}, {(fp16 ? "Float16" : "float")} input {string.Join('x', shape)}: {warmup.TotalSeconds:0.#} s warm-up, {duration.TotalSeconds:0.#} s measured");
        var threads = Enumerable.Range(0, concurrency).Select(w => new Thread(() => Worker(w)) { IsBackground = true, Name = $"ort-{w}" }).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        await Task.Delay(warmup, cancellation);
        var cpuStart = CpuSnapshot.Take(null);
        Volatile.Write(ref measureStart, cpuStart.Timestamp);
        await Task.Delay(duration, cancellation);
        var cpuEnd = CpuSnapshot.Take(null);
        Volatile.Write(ref measureEnd, cpuEnd.Timestamp);
        foreach (var thread in threads)
        {
            thread.Join();
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"bare ONNX Runtime failed: {errors[0].Message}", errors[0]);
        }

        var seconds = Stopwatch.GetElapsedTime(cpuStart.Timestamp, cpuEnd.Timestamp).TotalSeconds;
        var (latency, ok, failed, statuses) = WorkerLog.Merge(logs);
        return new PhaseResult
        {
            Name = name,
            Target = "bare-ort",
            Mode = "closed",
            Concurrency = concurrency,
            Batch = batch,
            Device = device.ToString().ToLowerInvariant(),
            Keys = 0,
            DurationSeconds = Math.Round(seconds, 3),
            Ok = ok,
            Failed = failed,
            Statuses = statuses,
            Throughput = Math.Round(ok * batch / seconds, 1),
            Latency = latency,
            Timeline = Timeline.From(logs.SelectMany(l => l.OkAt), cpuStart.Timestamp, cpuEnd.Timestamp, batch),
            Cpu = CpuSnapshot.Between(cpuStart, cpuEnd, ok * batch),
        };
    }
}
