namespace ShieldCluster.Server.Serving;

/// <summary>
/// An Open Inference Protocol request, whatever carried it: HTTP/JSON, HTTP with Triton's binary
/// tensor extension and gRPC all parse into this, and <see cref="InferencePipeline"/> runs it.
/// </summary>
public sealed class InferRequest
{
    /// <summary>The client's request id, echoed in the response.</summary>
    public string? Id { get; set; }

    /// <summary>The inputs, in request order.</summary>
    public List<InferInput> Inputs { get; } = [];

    /// <summary>The outputs the client asked for; null means all.</summary>
    public List<RequestedOutput>? Outputs { get; set; }

    /// <summary>
    /// The request-level <c>binary_data_output</c> parameter of the HTTP binary tensor extension:
    /// outputs that do not say otherwise are answered as raw bytes. Other transports ignore it.
    /// </summary>
    public bool BinaryDataOutput { get; set; }
}
