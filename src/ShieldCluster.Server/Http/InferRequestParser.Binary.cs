using System.Text.Json;
using ShieldCluster.Server.Serving;

namespace ShieldCluster.Server.Http;

/// <summary>Triton's binary tensor extension: bodies with raw tensor bytes after the JSON, and the parameters that size them.</summary>
public static partial class InferRequestParser
{
    /// <summary>
    /// Parses a body of Triton's binary tensor extension: a JSON header of
    /// <paramref name="headerLength"/> bytes, then the raw little-endian data of each input that
    /// declares <c>binary_data_size</c>, in input order, nothing between or after.
    /// </summary>
    public static InferRequest Parse(ReadOnlySpan<byte> body, int headerLength)
    {
        if (headerLength < 0 || headerLength > body.Length)
        {
            throw ApiException.BadRequest($"{BinaryTensors.Header} is {headerLength}, but the body has only {body.Length} bytes");
        }

        var request = ParseJson(body[..headerLength]);
        var binary = body[headerLength..];
        var offset = 0;
        foreach (var input in request.Inputs)
        {
            if (input.BinaryDataSize is not { } size)
            {
                continue;
            }

            if (size > binary.Length - offset)
            {
                throw ApiException.BadRequest(
                    $"input '{input.Name}' declares binary_data_size {size}, but only {binary.Length - offset} bytes of binary data remain");
            }

            var bytes = binary.Slice(offset, (int)size);
            offset += (int)size;
            var width = RawTensors.ValueSize(input.Datatype);
            if (width == 0)
            {
                // Only FP32 and FP16 are served; validation names the datatype the model expects.
                input.Data = [];
                continue;
            }

            if (size % width != 0)
            {
                throw ApiException.BadRequest($"input '{input.Name}' declares binary_data_size {size}, not a multiple of {width} bytes ({input.Datatype})");
            }

            input.Data = RawTensors.Read(input.Datatype, bytes);
        }

        if (offset != binary.Length)
        {
            throw ApiException.BadRequest(
                $"the body has {binary.Length} bytes of binary data after the JSON header, but the inputs' binary_data_size add up to {offset}");
        }

        return request;
    }

    /// <summary>Reads one parameter's value when it is known to the caller; false to have it skipped.</summary>
    private delegate bool ParameterReader(ref Utf8JsonReader reader, string name);

    /// <summary>Walks a <c>parameters</c> object: known parameters are read, unknown ones skipped.</summary>
    private static void ParseParameters(ref Utf8JsonReader reader, string message, ParameterReader read)
    {
        Expect(ref reader, JsonTokenType.StartObject, message);
        while (ReadProperty(ref reader, out var name))
        {
            if (!read(ref reader, name))
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static long ReadSize(ref Utf8JsonReader reader)
    {
        if (Next(ref reader) != JsonTokenType.Number || !reader.TryGetInt64(out var size) || size < 0 || size > int.MaxValue)
        {
            throw ApiException.BadRequest("parameter 'binary_data_size' must be a non-negative integer");
        }

        return size;
    }

    private static bool ReadBool(ref Utf8JsonReader reader, string message) => Next(ref reader) switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw ApiException.BadRequest(message),
    };
}
