using System.Text.Json;
using System.Text.Json.Serialization;

namespace ShieldCluster.Inference.Repository;

/// <summary>
/// A model's <c>config.json</c>. Field names follow Triton's model configuration where one exists;
/// <c>range</c>, <c>labels</c>, <c>sha256</c> and <c>protection</c> are ShieldCluster's own.
/// </summary>
public sealed class ModelConfig
{
    /// <summary>The model's name; must equal its directory's name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>Triton's platform name; only <c>onnxruntime_onnx</c> is served.</summary>
    [JsonPropertyName("platform")]
    public string Platform { get; set; } = "onnxruntime_onnx";

    /// <summary>Largest batch a request may send; 0 means the model has no batch dimension.</summary>
    [JsonPropertyName("max_batch_size")]
    public int MaxBatchSize { get; set; }

    /// <summary>The model's inputs.</summary>
    [JsonPropertyName("input")]
    public List<TensorConfig> Input { get; set; } = [];

    /// <summary>The model's outputs.</summary>
    [JsonPropertyName("output")]
    public List<TensorConfig> Output { get; set; } = [];

    /// <summary>Class labels, in output order.</summary>
    [JsonPropertyName("labels")]
    public List<string>? Labels { get; set; }

    /// <summary>Triton's dynamic batching settings.</summary>
    [JsonPropertyName("dynamic_batching")]
    public DynamicBatchingConfig? DynamicBatching { get; set; }

    /// <summary>Per version, the SHA-256 (hex) of every file in that version's directory.</summary>
    [JsonPropertyName("sha256")]
    public Dictionary<string, Dictionary<string, string>> Sha256 { get; set; } = [];

    /// <summary>Protection settings for this model (squeezing threshold and policy, hardening defaults).</summary>
    [JsonPropertyName("protection")]
    public JsonElement? Protection { get; set; }

    /// <summary>How each version was trained, as the training script recorded it.</summary>
    [JsonPropertyName("training")]
    public JsonElement? Training { get; set; }
}

/// <summary>One input or output of a model.</summary>
public sealed class TensorConfig
{
    /// <summary>The tensor's name in the ONNX graph.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>Triton's data type, e.g. <c>TYPE_FP32</c>.</summary>
    [JsonPropertyName("data_type")]
    public string DataType { get; set; } = "";

    /// <summary>Dimensions of one item, without the batch dimension when <c>max_batch_size</c> &gt; 0.</summary>
    [JsonPropertyName("dims")]
    public List<long> Dims { get; set; } = [];

    /// <summary>For inputs: the inclusive range <c>[min, max]</c> every value must lie in.</summary>
    [JsonPropertyName("range")]
    public List<float>? Range { get; set; }
}

/// <summary>Triton's <c>dynamic_batching</c> block.</summary>
public sealed class DynamicBatchingConfig
{
    /// <summary>Longest a request waits for others to join its batch.</summary>
    [JsonPropertyName("max_queue_delay_microseconds")]
    public int MaxQueueDelayMicroseconds { get; set; }

    /// <summary>Batch sizes the batcher prefers to form.</summary>
    [JsonPropertyName("preferred_batch_size")]
    public List<int>? PreferredBatchSize { get; set; }
}
