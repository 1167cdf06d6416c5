using System.ComponentModel.DataAnnotations;

namespace ShieldCluster.Inference;

/// <summary>Inference settings, bound from <c>Shield:Inference</c>.</summary>
public sealed class InferenceOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Shield:Inference";

    /// <summary>Execution provider: cpu (default), cuda or auto.</summary>
    public InferenceDevice Device { get; set; } = InferenceDevice.Cpu;

    /// <summary>CUDA device id. Default 0.</summary>
    [Range(0, 64)]
    public int DeviceId { get; set; }

    /// <summary>
    /// Threads ONNX Runtime uses inside one run. Default 1: concurrent requests already occupy
    /// the cores, and one thread per run avoids oversubscription. 0 lets ONNX Runtime choose.
    /// </summary>
    [Range(0, 256)]
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>
    /// The model repository directory. Default <c>models</c>: relative paths resolve against the
    /// working directory, then against the directories above the application.
    /// </summary>
    [Required]
    public string ModelRepository { get; set; } = "models";

    /// <summary>
    /// Items that may wait in a model's batching queue (models whose config has
    /// <c>dynamic_batching</c>); beyond it requests are refused with 503 at once instead of holding
    /// memory. Default 4,096.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxQueuedItems { get; set; } = 4_096;

    /// <summary>
    /// The most GPU memory ONNX Runtime's CUDA arena may take, in bytes (CUDA's <c>gpu_mem_limit</c>).
    /// Default 0: no limit.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long GpuMemoryLimitBytes { get; set; }

    /// <summary>
    /// cuDNN's convolution algorithm search (CUDA's <c>cudnn_conv_algo_search</c>): <c>EXHAUSTIVE</c>
    /// (default: benchmarks every algorithm once per shape, fastest afterwards), <c>HEURISTIC</c> or
    /// <c>DEFAULT</c>.
    /// </summary>
    [RegularExpression("^(EXHAUSTIVE|HEURISTIC|DEFAULT)$")]
    public string CudnnConvAlgoSearch { get; set; } = "EXHAUSTIVE";

    /// <summary>Batches of one model in flight at once. Default 0: one per processor.</summary>
    [Range(0, 1024)]
    public int ConcurrentBatches { get; set; }
}
