using ShieldCluster.Server.Grpc.Protocol;
using ShieldCluster.Server.Serving;

namespace ShieldCluster.Server.Grpc;

/// <summary>
/// A ModelInfer request as <see cref="ModelInferReader"/> reads it off the wire: every field but
/// <c>raw_input_contents</c> in <see cref="Fields"/> (parsed by Google.Protobuf; its
/// <c>RawInputContents</c> stays empty), and <c>raw_input_contents</c> in <see cref="RawInputContents"/>,
/// already decoded into float arrays from <see cref="TensorBuffers"/>. The message owns those arrays
/// until its request is handed to the pipeline; a call that ends before then gives them back with
/// <see cref="ReturnTensors"/>. (A call that Grpc.AspNetCore fails after the message was read, for
/// data sent after it, never reaches the service: its arrays are left to the garbage collector,
/// which <see cref="TensorBuffers"/> allows.)
/// </summary>
public sealed class ModelInferMessage
{
    private readonly RawInput[] _raw;

    /// <summary>A message of <paramref name="fields"/> and the decoded <paramref name="raw"/> entries, in wire order.</summary>
    public ModelInferMessage(ModelInferRequest fields, RawInput[] raw)
    {
        Fields = fields;
        _raw = raw;
    }

    /// <summary>Every field of the request but <c>raw_input_contents</c>.</summary>
    public ModelInferRequest Fields { get; }

    /// <summary>The <c>raw_input_contents</c> entries, in wire order (one per input, in input order, when the request is well formed).</summary>
    public IReadOnlyList<RawInput> RawInputContents => _raw;

    /// <summary>
    /// Hands the decoded arrays back to <see cref="TensorBuffers"/>: only while nothing else holds
    /// them (before the request reached the pipeline). The entries keep their lengths and lose their
    /// values; a second call returns nothing.
    /// </summary>
    public void ReturnTensors()
    {
        for (var i = 0; i < _raw.Length; i++)
        {
            _raw[i].Return();
            _raw[i] = _raw[i] with { Values = null, Halves = null };
        }
    }
}
