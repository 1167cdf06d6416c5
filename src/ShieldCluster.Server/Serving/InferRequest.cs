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

    /// <summary>
    /// Hands the inputs' data back to <see cref="TensorBuffers"/> once the request was answered: call
    /// it only after a successful run, when nothing (a queued batch, a pending grain call) can still
    /// read the arrays. The inputs have no data afterwards.
    /// </summary>
    public void ReleaseTensors()
    {
        foreach (var input in Inputs)
        {
            TensorBuffers.Return(input.Data);
            TensorBuffers.Return(input.Halves);
            input.Data = null;
            input.Halves = null;
        }
    }
}
