using System.Text.Json;
using ShieldCluster.Server.Serving;

namespace ShieldCluster.Server.Http;

/// <summary>Triton's binary tensor extension: bodies with raw tensor bytes after the JSON, and the parameters that size them.</summary>
public static partial class InferRequestParser
{
    /// <summary>
    /// Reads a body of Triton's binary tensor extension: a JSON header of
    /// <paramref name="headerLength"/> bytes, then the raw little-endian data of each input that
    /// declares <c>binary_data_size</c>, in input order, nothing between or after. An input's bytes go
    /// from the connection's buffers straight into its float array, decoded there in place.
    /// </summary>
    private static async Task<InferRequest> ReadBinaryAsync(BodyPipe body, int headerLength, CancellationToken cancellationToken)
    {
        InferRequest request;
        using (var header = await RequestBody.ReadAsync(body, headerLength, cancellationToken))
        {
            if (header.Length < headerLength)
            {
                throw ApiException.BadRequest($"{BinaryTensors.Header} is {headerLength}, but the body has only {header.Length} bytes");
            }

            request = ParseJson(header.Span);
        }

        long offset = 0;
        foreach (var input in request.Inputs)
        {
            if (input.BinaryDataSize is not { } size)
            {
                continue;
            }

            var width = RawTensors.ValueSize(input.Datatype);
            if (width != 0 && size % width == 0 && size <= Math.Min(body.Allowance, body.Remaining ?? long.MaxValue))
            {
                if (width == Fp16Bytes.Size && BitConverter.IsLittleEndian)
                {
                    // FP16 kept as it came: validated, fingerprinted and batched as it is.
                    var halves = TensorBuffers.RentHalves((int)(size / width));
                    EnsureRead(input, size, await body.ReadAsync(halves, 0, (int)size, cancellationToken));
                    input.Halves = halves;
                }
                else
                {
                    var values = TensorBuffers.Rent((int)(size / width));
                    EnsureRead(input, size, await body.ReadAsync(values, 0, (int)size, cancellationToken));
                    RawTensors.DecodeInPlace(input.Datatype, values);
                    input.Data = values;
                }
            }
            else
            {
                // Not to be kept, or more than the body can hold: skipped, to tell which refusal it is.
                EnsureRead(input, size, await body.SkipAsync(size, cancellationToken));

                if (width != 0)
                {
                    throw ApiException.BadRequest($"input '{input.Name}' declares binary_data_size {size}, not a multiple of {width} bytes ({input.Datatype})");
                }

                // Only FP32 and FP16 are served; validation names the datatype the model expects.
                input.Data = [];
            }

            offset += size;
        }

        var rest = await body.DrainAsync(cancellationToken);
        if (rest != 0)
        {
            throw ApiException.BadRequest(
                $"the body has {offset + rest} bytes of binary data after the JSON header, but the inputs' binary_data_size add up to {offset}");
        }

        return request;
    }

    /// <summary>Refuses an input whose <paramref name="read"/> bytes fall short of its <c>binary_data_size</c>.</summary>
    private static void EnsureRead(InferInput input, long size, long read)
    {
        if (read < size)
        {
            throw BeyondTheData(input, size, read);
        }
    }

    private static ApiException BeyondTheData(InferInput input, long size, long remaining) =>
        ApiException.BadRequest($"input '{input.Name}' declares binary_data_size {size}, but only {remaining} bytes of binary data remain");

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
