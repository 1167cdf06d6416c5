namespace ShieldCluster.Server.Http;

/// <summary>An Open Inference Protocol request as parsed from JSON.</summary>
public sealed class InferRequest
{
    /// <summary>The client's request id, echoed in the response.</summary>
    public string? Id { get; set; }

    /// <summary>The inputs, in request order.</summary>
    public List<InferInput> Inputs { get; } = [];

    /// <summary>The outputs the client asked for; null means all.</summary>
    public List<string>? Outputs { get; set; }
}

/// <summary>One input tensor of a request. FP32 data is parsed straight into a float array.</summary>
public sealed class InferInput
{
    /// <summary>The input's name.</summary>
    public string? Name { get; set; }

    /// <summary>The declared shape.</summary>
    public long[]? Shape { get; set; }

    /// <summary>The declared datatype, e.g. <c>FP32</c>.</summary>
    public string? Datatype { get; set; }

    /// <summary>The values, flattened row-major; null if <c>data</c> was absent.</summary>
    public float[]? Data { get; set; }

    /// <summary>Set when <c>data</c> held something other than finite numbers (strings, booleans, NaN, infinities).</summary>
    public string? DataProblem { get; set; }
}
