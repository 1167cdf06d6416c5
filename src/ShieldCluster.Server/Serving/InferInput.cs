namespace ShieldCluster.Server.Serving;

/// <summary>One input tensor of a request. FP32 data arrives straight in a float array.</summary>
public sealed class InferInput
{
    /// <summary>The input's name.</summary>
    public string? Name { get; set; }

    /// <summary>The declared shape.</summary>
    public long[]? Shape { get; set; }

    /// <summary>The declared datatype, e.g. <c>FP32</c>.</summary>
    public string? Datatype { get; set; }

    /// <summary>The values, flattened row-major; null if the request carried none, or carried them in <see cref="Halves"/>.</summary>
    public float[]? Data { get; set; }

    /// <summary>
    /// The values as they came on the wire when that was FP16 raw bytes (the binary tensor extension,
    /// gRPC's raw_input_contents), never widened: validated, fingerprinted and copied into an fp16
    /// model's batch as they are. <see cref="Data"/> is null then; null otherwise.
    /// </summary>
    public Half[]? Halves { get; set; }

    /// <summary>Whether the request carried values (in <see cref="Data"/> or <see cref="Halves"/>).</summary>
    public bool HasValues => Data is not null || Halves is not null;

    /// <summary>Set when the data held something other than finite numbers (strings, booleans, NaN, infinities).</summary>
    public string? DataProblem { get; set; }

    /// <summary>
    /// The <c>binary_data_size</c> parameter of the HTTP binary tensor extension: the input's data
    /// follows the JSON header as this many raw bytes. Null when the data is in the JSON.
    /// </summary>
    public long? BinaryDataSize { get; set; }
}
