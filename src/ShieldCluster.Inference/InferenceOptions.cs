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

    /// <summary>
    /// Whether batches are padded up to fixed sizes (powers of two up to the model's
    /// <c>max_batch_size</c>, and that maximum), each run once with zeros when the model loads.
    /// <c>Auto</c> (default): on CUDA only, where cuDNN's algorithm search runs once per input shape
    /// and dynamic batching would otherwise meet up to <c>max_batch_size</c> shapes, each searched
    /// under load. <c>Always</c> or <c>Never</c> to choose.
    /// </summary>
    public BatchPadding PadBatches { get; set; } = BatchPadding.Auto;

    /// <summary>
    /// On CUDA, whether batches are written into page-locked host memory from the session's pinned
    /// allocator, so their copy to the GPU is a DMA transfer rather than a CPU copy through CUDA's
    /// staging buffer. Default true: measured on an H200 (ResNet-50, 512 binary-HTTP clients,
    /// protected, sleeping waits), pinned against pageable in four interleaved pairs: fp32 7,829 /
    /// 8,019 against 7,277 / 7,699 images/s, fp16 12,052 / 12,411 against 10,381 / 12,080, with less
    /// server CPU in each. (With spinning waits, session 7, pinned had served fewer.) Ignored on the CPU.
    /// </summary>
    public bool PinnedInputs { get; set; } = true;

    /// <summary>
    /// On CUDA, whether a thread waiting for the GPU sleeps (<c>cudaDeviceScheduleBlockingSync</c>)
    /// instead of spinning on a core (CUDA's choice for a process with fewer GPU contexts than
    /// processors). Default true: measured on an H200 (ResNet-50 fp16, 512 binary-HTTP clients,
    /// protected), with the batch runners on threads of their own the spinning waits served 7,742
    /// images/s at a p99 of 466 ms, the sleeping ones 10,066 at 78 ms. Set before the first session
    /// is created.
    /// </summary>
    public bool CudaBlockingSync { get; set; } = true;

    /// <summary>
    /// ONNX Runtime calls of one model's batches in flight at once. Default 0: one per processor on
    /// the CPU, 4 on CUDA. Measured on an H200 (ResNet-50, 512 binary-HTTP clients, batches of 32,
    /// protected fp32): 4 in flight served 8,110 images/s, 8 served 6,590 and 16 (a processor each on
    /// that 16-core host) 2,462; bare ONNX Runtime itself gains 60-70% from 4 concurrent runs.
    /// </summary>
    [Range(0, 1024)]
    public int ConcurrentBatches { get; set; }

    /// <summary>
    /// Batches prepared ahead of the calls in flight: this many more runners take the next batches
    /// from the queue and write them into the model's input (the copy, padding and fp16 conversion)
    /// while <see cref="ConcurrentBatches"/> calls run, so a call starts as soon as another ends.
    /// Default null: 1 on CUDA, where that copy of a large batch takes milliseconds the GPU would
    /// otherwise wait for, 0 on the CPU.
    /// </summary>
    [Range(0, 64)]
    public int? StagedBatches { get; set; }
}

/// <summary>When batches are padded to fixed sizes (<see cref="InferenceOptions.PadBatches"/>).</summary>
public enum BatchPadding
{
    /// <summary>On CUDA only.</summary>
    Auto = 0,

    /// <summary>On every execution provider.</summary>
    Always = 1,

    /// <summary>Never: each batch runs at its own size.</summary>
    Never = 2,
}
