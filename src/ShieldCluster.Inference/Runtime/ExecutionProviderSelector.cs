using System.Runtime.InteropServices;
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

            if (_provider is null && settings.CudaBlockingSync)
            {
                var failure = SetBlockingSync(settings.DeviceId);
                if (failure is null)
                {
                    Log.BlockingSync(logger);
                }
                else
                {
                    Log.NoBlockingSync(logger, failure);
                }
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

    /// <summary>
    /// Asks the CUDA runtime that ONNX Runtime's CUDA provider loads (the same shared library) to let
    /// threads waiting for the device sleep; null when done, else why not.
    /// </summary>
    private static unsafe string? SetBlockingSync(int deviceId)
    {
        const uint cudaDeviceScheduleBlockingSync = 0x04;
        foreach (var name in (string[])["libcudart.so.13", "libcudart.so.12", "libcudart.so"])
        {
            if (!NativeLibrary.TryLoad(name, out var library))
            {
                continue;
            }

            if (!NativeLibrary.TryGetExport(library, "cudaSetDevice", out var setDevice)
                || !NativeLibrary.TryGetExport(library, "cudaSetDeviceFlags", out var setFlags))
            {
                return $"{name} lacks cudaSetDevice or cudaSetDeviceFlags";
            }

            var error = ((delegate* unmanaged<int, int>)setDevice)(deviceId);
            if (error == 0)
            {
                error = ((delegate* unmanaged<uint, int>)setFlags)(cudaDeviceScheduleBlockingSync);
            }

            return error == 0 ? null : $"the CUDA runtime ({name}) answered error {error}";
        }

        return "no CUDA runtime library (libcudart) could be loaded";
    }

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Information, "CUDA: threads waiting for the device sleep (cudaDeviceScheduleBlockingSync)")]
        public static partial void BlockingSync(ILogger logger);

        [LoggerMessage(3, LogLevel.Warning, "CUDA: Shield:Inference:CudaBlockingSync is set but could not be applied: {Reason}")]
        public static partial void NoBlockingSync(ILogger logger, string reason);

        [LoggerMessage(1, LogLevel.Warning, "Inference falls back to the CPU: {Reason}")]
        public static partial void FallingBackToCpu(ILogger logger, string reason);
    }
}
