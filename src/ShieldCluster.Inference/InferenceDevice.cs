namespace ShieldCluster.Inference;

/// <summary>Where ONNX Runtime runs models.</summary>
public enum InferenceDevice
{
    /// <summary>The CPU execution provider.</summary>
    Cpu = 0,

    /// <summary>The CUDA execution provider; start fails if it cannot load.</summary>
    Cuda = 1,

    /// <summary>CUDA when it loads, else the CPU, with one log line giving the reason.</summary>
    Auto = 2,
}
