using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace ShieldCluster.Inference.Runtime;

/// <summary>
/// Builds ONNX Runtime session options for the configured device. Whether CUDA loads is decided once
/// per process: with <see cref="InferenceDevice.Auto"/> a failure falls back to the CPU with one log
/// line giving the reason; with <see cref="InferenceDevice.Cuda"/> it is fatal.
/// </summary>
public sealed partial class ExecutionProviderSelector(IOptions<InferenceOptions> options, ILogger<ExecutionProviderSelector> logger)
{
    private readonly Lock _gate = new();
    private string? _provider;

    /// <summary>The provider in use once a session was created: <c>CUDA</c> or <c>CPU</c>.</summary>
    public string Provider => _provider ?? "none";

    /// <summary>Creates session options for one model session.</summary>
    public SessionOptions Create()
    {
        var settings = options.Value;
        var sessionOptions = NewOptions(settings);

        if (settings.Device == InferenceDevice.Cpu)
        {
            _provider = "CPU";
            return sessionOptions;
        }

        lock (_gate)
        {
            if (_provider == "CPU")
            {
                return sessionOptions;
            }

            var reason = TryAppendCuda(sessionOptions, settings);
            if (reason is null)
            {
                _provider = "CUDA";
                return sessionOptions;
            }

            sessionOptions.Dispose();
            if (settings.Device == InferenceDevice.Cuda)
            {
                throw new InvalidOperationException($"Shield:Inference:Device is 'cuda' but the CUDA execution provider cannot load: {reason}");
            }

            Log.FallingBackToCpu(logger, reason);
            _provider = "CPU";
            return NewOptions(settings);
        }
    }

    private static SessionOptions NewOptions(InferenceOptions settings) => new()
    {
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        IntraOpNumThreads = settings.IntraOpThreads,
        InterOpNumThreads = 1,
    };

    /// <summary>The CUDA provider's options for <paramref name="settings"/>.</summary>
    public static Dictionary<string, string> CudaOptions(InferenceOptions settings)
    {
        var options = new Dictionary<string, string>
        {
            ["device_id"] = settings.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["cudnn_conv_algo_search"] = settings.CudnnConvAlgoSearch,
        };
        if (settings.GpuMemoryLimitBytes > 0)
        {
            options["gpu_mem_limit"] = settings.GpuMemoryLimitBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
            options["arena_extend_strategy"] = "kSameAsRequested";
        }

        return options;
    }

    private static string? TryAppendCuda(SessionOptions sessionOptions, InferenceOptions settings)
    {
        try
        {
            using var cuda = new OrtCUDAProviderOptions();
            cuda.UpdateOptions(CudaOptions(settings));
            sessionOptions.AppendExecutionProvider_CUDA(cuda);
            return null;
        }
        catch (EntryPointNotFoundException)
        {
            return "CPU build: this build carries the CPU-only ONNX Runtime (build with -p:OrtFlavor=Gpu for CUDA)";
        }
        catch (OnnxRuntimeException ex) when (ex.Message.Contains("not enabled in this build", StringComparison.OrdinalIgnoreCase))
        {
            return "CPU build: this build carries the CPU-only ONNX Runtime (build with -p:OrtFlavor=Gpu for CUDA)";
        }
        catch (OnnxRuntimeException ex)
        {
            return $"the CUDA provider failed to load ({ex.Message.Trim()}); the native reason is on stderr";
        }
        catch (DllNotFoundException ex)
        {
            return $"a native library is missing ({ex.Message.Trim()})";
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Inference falls back to the CPU: {Reason}")]
        public static partial void FallingBackToCpu(ILogger logger, string reason);
    }
}
