using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace ShieldCluster.LoadGen;

/// <summary>
/// The baseline without any server: the model's ONNX Runtime session in this process, with the
/// server's session options (src/ShieldCluster.Inference/Runtime/ExecutionProviderSelector.cs: all
/// graph optimisations, sequential execution, 1 intra-op and 1 inter-op thread: the default
/// Shield:Inference:IntraOpThreads), run by the same number of concurrent workers on batch-1
/// inputs of the same images. Each worker is a thread calling <c>Run</c> synchronously (ONNX Runtime
/// sessions are thread-safe for concurrent runs; with one intra-op thread a run executes on its caller).
/// </summary>
internal static class BareOrtLoad
{
    /// <param name="squeezed">Two rows per request: the image and its bit-depth-3 squeezed copy, the
    /// extra inference the protected server's feature squeezing adds to each request.</param>
    public static async Task<PhaseResult> ClosedLoopAsync(string name, string modelPath, ImagePool pool, int concurrency, bool squeezed,
        TimeSpan warmup, TimeSpan duration, TextWriter log, CancellationToken cancellation)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
        };
        using var session = new InferenceSession(modelPath, options);
        using var runOptions = new RunOptions();
        var inputName = session.InputMetadata.Keys.Single();
        string[] inputNames = [inputName];
        string[] outputNames = [.. session.OutputMetadata.Keys];
        var rows = squeezed ? 2 : 1;
        long[] shape = [rows, 1, 28, 28];

        var logs = Enumerable.Range(0, concurrency).Select(_ => new WorkerLog()).ToArray();
        var cursor = new ImageCursor(pool.Count, concurrency);
        long measureStart = long.MaxValue, measureEnd = long.MaxValue;
        var errors = new List<Exception>();

        void Worker(int w)
        {
            var input = new float[rows * ImagePool.Pixels];
            var log = logs[w];
            try
            {
                while (!cancellation.IsCancellationRequested)
                {
                    pool.Fill(cursor.Next(w), input.AsSpan(0, ImagePool.Pixels));
                    if (squeezed)
                    {
                        // Bit depth 3: round(x * 7) / 7, as the model's "bit-depth-3" squeezer.
                        for (var i = 0; i < ImagePool.Pixels; i++)
                        {
                            input[ImagePool.Pixels + i] = MathF.Round(input[i] * 7) / 7;
                        }
                    }

                    var t0 = Stopwatch.GetTimestamp();
                    using (var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input.AsMemory(), shape))
                    using (var results = session.Run(runOptions, inputNames, [value], outputNames))
                    {
                        var output = results[0].GetTensorDataAsSpan<float>().ToArray();
                        if (output.Length != 10 * rows)
                        {
                            throw new InvalidOperationException($"unexpected output of {output.Length} values");
                        }
                    }

                    var t1 = Stopwatch.GetTimestamp();
                    if (t1 > Volatile.Read(ref measureEnd))
                    {
                        return;
                    }

                    if (t1 >= Volatile.Read(ref measureStart))
                    {
                        log.Add(200, t1 - t0);
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
        }

        log.WriteLine($"[{name}] closed loop in process, {concurrency} threads{(squeezed ? ", 2 rows per run (image + squeezed copy)" : "")}: {warmup.TotalSeconds:0.#} s warm-up, {duration.TotalSeconds:0.#} s measured");
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
            Keys = 0,
            DurationSeconds = Math.Round(seconds, 3),
            Ok = ok,
            Failed = failed,
            Statuses = statuses,
            Throughput = Math.Round(ok / seconds, 1),
            Latency = latency,
            Cpu = CpuSnapshot.Between(cpuStart, cpuEnd, ok),
        };
    }
}
