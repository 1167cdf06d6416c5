using System.Buffers;
using Google.Protobuf;
using ShieldCluster.Server.Grpc.Protocol;
using ShieldCluster.Server.Http;
using ShieldCluster.Server.Serving;

namespace ShieldCluster.Server.Grpc;

/// <summary>
/// Maps the gRPC messages to the transport-neutral <see cref="InferRequest"/> and back. Inputs come
/// as <c>contents.fp32_contents</c> or as <c>raw_input_contents</c> (little-endian FP32, or FP16
/// kept as it came; see <see cref="RawInput"/>); the answer takes the same form: <c>raw_output_contents</c>
/// for raw requests, <c>contents</c> otherwise.
/// Inconsistent messages throw <see cref="ApiException"/> 400 (InvalidArgument).
/// </summary>
public static class GrpcTensors
{
    private const int MaxRank = 16;

    /// <summary>
    /// The neutral request of a message whose <c>raw_input_contents</c> are ByteStrings (a message
    /// built in process); <paramref name="raw"/> says whether the inputs came as raw bytes. The same
    /// checks and messages as <see cref="ToRequest(ModelInferRequest, IReadOnlyList{RawInput}, out bool)"/>.
    /// </summary>
    public static InferRequest ToRequest(ModelInferRequest message, out bool raw)
    {
        var entries = new RawInput[message.RawInputContents.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var datatype = i < message.Inputs.Count ? message.Inputs[i].Datatype : null;
            entries[i] = RawInput.Decode(datatype, new ReadOnlySequence<byte>(message.RawInputContents[i].Memory));
        }

        try
        {
            return ToRequest(message, entries, out raw);
        }
        catch
        {
            // Refused: nothing else has the arrays.
            foreach (var entry in entries)
            {
                entry.Return();
            }

            throw;
        }
    }

    /// <summary>
    /// The neutral request of <paramref name="message"/>'s fields and its <c>raw_input_contents</c>
    /// as <paramref name="rawInputContents"/> (their values become the inputs' data, not copied);
    /// <paramref name="raw"/> says whether the inputs came as raw bytes.
    /// </summary>
    public static InferRequest ToRequest(ModelInferRequest message, IReadOnlyList<RawInput> rawInputContents, out bool raw)
    {
        if (message.Inputs.Count == 0)
        {
            throw ApiException.BadRequest("the request has no 'inputs'");
        }

        raw = rawInputContents.Count > 0;
        if (raw && rawInputContents.Count != message.Inputs.Count)
        {
            throw ApiException.BadRequest(
                $"raw_input_contents has {rawInputContents.Count} entries for {message.Inputs.Count} inputs; it needs one per input, in input order");
        }

        var request = new InferRequest { Id = message.Id.Length == 0 ? null : message.Id };
        for (var i = 0; i < message.Inputs.Count; i++)
        {
            var tensor = message.Inputs[i];
            request.Inputs.Add(ToInput(tensor, raw ? rawInputContents[i] : null));
        }

        if (message.Outputs.Count > 0)
        {
            request.Outputs = [.. message.Outputs.Select(o => new RequestedOutput(
                o.Name.Length > 0 ? o.Name : throw ApiException.BadRequest("a requested output has no 'name'")))];
        }

        return request;
    }

    private static InferInput ToInput(ModelInferRequest.Types.InferInputTensor tensor, RawInput? raw)
    {
        var name = tensor.Name.Length > 0 ? tensor.Name : throw ApiException.BadRequest("an input has no 'name'");
        if (tensor.Datatype.Length == 0)
        {
            throw ApiException.BadRequest($"input '{name}' has no 'datatype'");
        }

        if (tensor.Shape.Count > MaxRank)
        {
            throw ApiException.BadRequest($"input '{name}': 'shape' has more than {MaxRank} dimensions");
        }

        if (tensor.Shape.Any(d => d < 0))
        {
            throw ApiException.BadRequest($"input '{name}': 'shape' must be non-negative integers");
        }

        var input = new InferInput { Name = name, Datatype = tensor.Datatype, Shape = [.. tensor.Shape] };
        if (raw is { } bytes)
        {
            if (tensor.Contents is not null)
            {
                throw ApiException.BadRequest($"input '{name}' has both 'contents' and raw_input_contents; send one or the other");
            }

            var width = RawTensors.ValueSize(tensor.Datatype);
            if (width > 0 && bytes.Length % width != 0)
            {
                throw ApiException.BadRequest($"input '{name}': raw_input_contents has {bytes.Length} bytes, not a multiple of {width} ({tensor.Datatype})");
            }

            // Decoded wherever the datatype is served (FP32, FP16); for another, no values, so that
            // validation names the datatype the model expects.
            input.Halves = bytes.Halves;
            input.Data = bytes.Halves is null ? bytes.Values ?? [] : null;
            return input;
        }

        if (tensor.Contents is null)
        {
            throw ApiException.BadRequest($"input '{name}' has no data: send contents.fp32_contents or raw_input_contents");
        }

        if (tensor.Datatype == "FP16")
        {
            throw ApiException.BadRequest($"input '{name}' is FP16: the protocol carries FP16 only as raw_input_contents");
        }

        input.Data = tensor.Datatype == "FP32" ? [.. tensor.Contents.Fp32Contents] : [];
        return input;
    }

    /// <summary>The response message, in the form the request used.</summary>
    public static ModelInferResponse ToResponse(InferResult result, bool raw)
    {
        var response = new ModelInferResponse
        {
            ModelName = result.Model,
            ModelVersion = result.Version,
            Id = result.Id ?? "",
        };
        foreach (var output in result.Outputs)
        {
            var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = output.Spec.Name, Datatype = output.Spec.Datatype };
            tensor.Shape.Add(output.Shape);
            if (raw)
            {
                response.RawOutputContents.Add(UnsafeByteOperations.UnsafeWrap(Fp32Bytes.ToArray(output.Data)));
            }
            else
            {
                tensor.Contents = new InferTensorContents();
                tensor.Contents.Fp32Contents.Add(output.Data);
            }

            response.Outputs.Add(tensor);
        }

        return response;
    }
}
