using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using ShieldCluster.Server.Serving;

namespace ShieldCluster.Server.Http;

/// <summary>
/// Parses an Open Inference Protocol JSON request with <see cref="Utf8JsonReader"/>: numbers go
/// straight into a pooled float buffer, never boxed, so a 64-image request (50,000 numbers) costs
/// one array. Flat and nested <c>data</c> are accepted; of <c>parameters</c> only those of Triton's
/// binary tensor extension are read (<c>binary_data_size</c>, <c>binary_data</c>,
/// <c>binary_data_output</c>), the rest are skipped. Problems throw <see cref="ApiException"/> (400)
/// with a message for the client.
/// </summary>
public static partial class InferRequestParser
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 32, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>
    /// Reads and parses the body of <paramref name="request"/>: JSON, or Triton's binary tensor
    /// extension when the request carries <see cref="BinaryTensors.Header"/>. 413 past
    /// <paramref name="limit"/> bytes takes precedence over every 400, as if the whole body had been
    /// read before it was parsed.
    /// </summary>
    public static async Task<InferRequest> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        var body = BodyPipe.Open(request, limit);
        try
        {
            if (BinaryTensors.HeaderLength(request) is { } headerLength)
            {
                return await ReadBinaryAsync(body, headerLength, cancellationToken);
            }

            using var json = await RequestBody.ReadAsync(body, int.MaxValue, cancellationToken);
            return Parse(json.Span);
        }
        catch (ApiException ex) when (ex.StatusCode == StatusCodes.Status400BadRequest)
        {
            // A body past the limit is refused as too large, whatever else is wrong with it.
            await body.DrainAsync(cancellationToken);
            throw;
        }
    }

    /// <summary>Parses a whole JSON request body (no binary tensor data).</summary>
    public static InferRequest Parse(ReadOnlySpan<byte> json)
    {
        var request = ParseJson(json);
        foreach (var input in request.Inputs)
        {
            if (input.BinaryDataSize is not null)
            {
                throw ApiException.BadRequest(
                    $"input '{input.Name}' has 'binary_data_size' but the request has no {BinaryTensors.Header} header");
            }
        }

        return request;
    }

    private static InferRequest ParseJson(ReadOnlySpan<byte> json)
    {
        if (json.IsEmpty)
        {
            throw ApiException.BadRequest("request body is empty; expected a JSON object with 'inputs'");
        }

        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            var body = json;
            var request = ParseRequest(ref reader, ref body);
            if (reader.Read())
            {
                throw ApiException.BadRequest("unexpected content after the request object");
            }

            return request;
        }
        catch (JsonException ex)
        {
            throw ApiException.BadRequest($"malformed JSON: {ex.Message}");
        }
    }

    /// <remarks><paramref name="body"/> is what <paramref name="reader"/> reads: the data arrays' scan restarts the reader past them.</remarks>
    private static InferRequest ParseRequest(ref Utf8JsonReader reader, ref ReadOnlySpan<byte> body)
    {
        Expect(ref reader, JsonTokenType.StartObject, "the request must be a JSON object");
        var request = new InferRequest();
        var sawInputs = false;
        while (ReadProperty(ref reader, out var property))
        {
            switch (property)
            {
                case "id":
                    request.Id = ReadString(ref reader, "'id' must be a string");
                    break;
                case "inputs":
                    Expect(ref reader, JsonTokenType.StartArray, "'inputs' must be an array");
                    while (Next(ref reader) != JsonTokenType.EndArray)
                    {
                        request.Inputs.Add(ParseInput(ref reader, ref body));
                    }

                    sawInputs = true;
                    break;
                case "outputs":
                    request.Outputs = ParseOutputs(ref reader);
                    break;
                case "parameters":
                    ParseParameters(ref reader, "'parameters' must be an object", (ref Utf8JsonReader r, string name) =>
                    {
                        if (name == "binary_data_output")
                        {
                            request.BinaryDataOutput = ReadBool(ref r, "parameter 'binary_data_output' must be true or false");
                            return true;
                        }

                        return false;
                    });
                    break;
                default:
                    reader.Read();
                    reader.Skip();
                    break;
            }
        }

        if (!sawInputs || request.Inputs.Count == 0)
        {
            throw ApiException.BadRequest("the request has no 'inputs'");
        }

        return request;
    }

    private static InferInput ParseInput(ref Utf8JsonReader reader, ref ReadOnlySpan<byte> body)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw ApiException.BadRequest("each input must be an object");
        }

        var input = new InferInput();
        while (ReadProperty(ref reader, out var property))
        {
            switch (property)
            {
                case "name":
                    input.Name = ReadString(ref reader, "an input's 'name' must be a string");
                    break;
                case "datatype":
                    input.Datatype = ReadString(ref reader, "an input's 'datatype' must be a string");
                    break;
                case "shape":
                    input.Shape = ParseShape(ref reader);
                    break;
                case "data":
                    ParseData(ref reader, ref body, input);
                    break;
                case "parameters":
                    ParseParameters(ref reader, "an input's 'parameters' must be an object", (ref Utf8JsonReader r, string name) =>
                    {
                        if (name == "binary_data_size")
                        {
                            input.BinaryDataSize = ReadSize(ref r);
                            return true;
                        }

                        return false;
                    });
                    break;
                default:
                    reader.Read();
                    reader.Skip();
                    break;
            }
        }

        var name = input.Name ?? throw ApiException.BadRequest("an input has no 'name'");
        if (input.Shape is null)
        {
            throw ApiException.BadRequest($"input '{name}' has no 'shape'");
        }

        if (input.Datatype is null)
        {
            throw ApiException.BadRequest($"input '{name}' has no 'datatype'");
        }

        if (input.Data is null && input.BinaryDataSize is null)
        {
            throw ApiException.BadRequest($"input '{name}' has no 'data'");
        }

        if (input.Data is not null && input.BinaryDataSize is not null)
        {
            throw ApiException.BadRequest($"input '{name}' has both 'data' and 'binary_data_size'");
        }

        return input;
    }

    private static long[] ParseShape(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray, "'shape' must be an array of integers");
        var dims = new List<long>(4);
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var dim) || dim < 0)
            {
                throw ApiException.BadRequest("'shape' must be an array of non-negative integers");
            }

            if (dims.Count == 16)
            {
                throw ApiException.BadRequest("'shape' has more than 16 dimensions");
            }

            dims.Add(dim);
        }

        return [.. dims];
    }

    private static void ParseData(ref Utf8JsonReader reader, ref ReadOnlySpan<byte> body, InferInput input)
    {
        Expect(ref reader, JsonTokenType.StartArray, "'data' must be an array");
        var buffer = ArrayPool<float>.Shared.Rent(4096);
        var count = 0;
        var depth = 1;
        try
        {
            // Arrays of numbers are scanned straight from the body, and the reader restarts at the
            // closing bracket; anything else (or anything the scan is unsure of) goes through the reader.
            // A restarted reader's error positions (BytePositionInLine) do not count the scanned bytes.
            var problem = input.DataProblem;
            var start = checked((int)reader.TokenStartIndex) + 1;
            var end = ScanNumbers(body, start, ref buffer, out count, input);
            if (end >= 0)
            {
                var state = reader.CurrentState;
                body = body[end..];
                reader = new Utf8JsonReader(body, isFinalBlock: true, state);
                if (Next(ref reader) != JsonTokenType.EndArray)
                {
                    throw new InvalidOperationException("the data scan stopped before a closing bracket");
                }

                input.Data = buffer.AsSpan(0, count).ToArray();
                return;
            }

            input.DataProblem = problem;
            count = 0;
            while (depth > 0)
            {
                switch (Next(ref reader))
                {
                    case JsonTokenType.StartArray:
                        depth++;
                        break;
                    case JsonTokenType.EndArray:
                        depth--;
                        break;
                    case JsonTokenType.Number:
                        // Most tokens take the exact fast path; the rest, the general parser.
                        if ((reader.HasValueSequence || !JsonFloats.TryParse(reader.ValueSpan, out var value))
                            && (!reader.TryGetSingle(out value) || !float.IsFinite(value)))
                        {
                            input.DataProblem ??= NotFinite(count);
                            value = 0;
                        }

                        Append(ref buffer, ref count, value);
                        break;
                    case JsonTokenType.String:
                    case JsonTokenType.True:
                    case JsonTokenType.False:
                    case JsonTokenType.Null:
                        input.DataProblem ??= $"'data' holds a {reader.TokenType.ToString().ToLowerInvariant()} at index {count}; FP32 data must be numbers";
                        count++;
                        break;
                    default:
                        throw ApiException.BadRequest("'data' must be an array of numbers (flat or nested)");
                }
            }

            input.Data = buffer.AsSpan(0, count).ToArray();
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads the numbers of a data array (flat or nested) from <paramref name="body"/>, starting just
    /// after its opening bracket, into <paramref name="buffer"/>. Answers the index of the array's
    /// closing bracket, or -1 where the scan stops short: any token but a number or a bracket, any
    /// doubt about JSON's grammar (the reader then reads the array from its start and says what is
    /// wrong), a number the parser cannot read.
    /// </summary>
    private static int ScanNumbers(ReadOnlySpan<byte> body, int position, ref float[] buffer, out int count, InferInput input)
    {
        count = 0;
        var depth = 1;
        var afterValue = false; // a value or a closing bracket just ended: ',' or ']' next
        var afterComma = false; // a value must come next
        while (true)
        {
            while (position < body.Length && IsWhitespace(body[position]))
            {
                position++;
            }

            if (position == body.Length)
            {
                return -1;
            }

            var next = body[position];
            if (next == ']')
            {
                if (afterComma)
                {
                    return -1;
                }

                if (--depth == 0)
                {
                    return position;
                }

                position++;
                afterValue = true;
            }
            else if (next == '[')
            {
                if (afterValue || depth == 8)
                {
                    return -1;
                }

                depth++;
                position++;
                afterComma = false;
            }
            else if (next == ',')
            {
                if (!afterValue)
                {
                    return -1;
                }

                position++;
                afterValue = false;
                afterComma = true;
            }
            else
            {
                var length = afterValue ? 0 : NumberLength(body[position..]);
                if (length == 0)
                {
                    return -1;
                }

                var token = body.Slice(position, length);
                if (!JsonFloats.TryParse(token, out var value))
                {
                    var format = token.IndexOfAny((byte)'e', (byte)'E') >= 0 ? 'e' : default;
                    if (!Utf8Parser.TryParse(token, out value, out var consumed, format) || consumed != length)
                    {
                        return -1;
                    }

                    if (!float.IsFinite(value))
                    {
                        input.DataProblem ??= NotFinite(count);
                        value = 0;
                    }
                }

                Append(ref buffer, ref count, value);
                position += length;
                afterValue = true;
                afterComma = false;
            }
        }
    }

    /// <summary>
    /// The length of the JSON number (<c>-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?</c>) that
    /// <paramref name="text"/> starts with, when a delimiter (whitespace, ',' or ']') follows it; 0 otherwise.
    /// </summary>
    private static int NumberLength(ReadOnlySpan<byte> text)
    {
        var i = 0;
        if (i < text.Length && text[i] == '-')
        {
            i++;
        }

        if (i < text.Length && text[i] == '0')
        {
            i++;
        }
        else if (i < text.Length && text[i] is >= (byte)'1' and <= (byte)'9')
        {
            while (++i < text.Length && IsDigit(text[i]))
            {
            }
        }
        else
        {
            return 0;
        }

        if (i < text.Length && text[i] == '.')
        {
            if (++i == text.Length || !IsDigit(text[i]))
            {
                return 0;
            }

            while (++i < text.Length && IsDigit(text[i]))
            {
            }
        }

        if (i < text.Length && (text[i] | 0x20) == 'e')
        {
            if (++i < text.Length && text[i] is (byte)'+' or (byte)'-')
            {
                i++;
            }

            if (i == text.Length || !IsDigit(text[i]))
            {
                return 0;
            }

            while (++i < text.Length && IsDigit(text[i]))
            {
            }
        }

        return i < text.Length && (IsWhitespace(text[i]) || text[i] is (byte)',' or (byte)']') ? i : 0;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t';

    private static string NotFinite(int index) => $"'data' holds a number that is not a finite FP32 value at index {index} (NaN or infinity)";

    /// <summary>Appends a value to a pooled buffer, renting one twice the size when it is full.</summary>
    private static void Append(ref float[] buffer, ref int count, float value)
    {
        if (count == buffer.Length)
        {
            var larger = ArrayPool<float>.Shared.Rent(buffer.Length * 2);
            buffer.AsSpan(0, count).CopyTo(larger);
            ArrayPool<float>.Shared.Return(buffer);
            buffer = larger;
        }

        buffer[count++] = value;
    }

    private static List<RequestedOutput> ParseOutputs(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray, "'outputs' must be an array");
        var outputs = new List<RequestedOutput>();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw ApiException.BadRequest("each requested output must be an object with a 'name'");
            }

            string? name = null;
            bool? binary = null;
            while (ReadProperty(ref reader, out var property))
            {
                switch (property)
                {
                    case "name":
                        name = ReadString(ref reader, "an output's 'name' must be a string");
                        break;
                    case "parameters":
                        ParseParameters(ref reader, "an output's 'parameters' must be an object", (ref Utf8JsonReader r, string parameter) =>
                        {
                            if (parameter == "binary_data")
                            {
                                binary = ReadBool(ref r, "parameter 'binary_data' must be true or false");
                                return true;
                            }

                            return false;
                        });
                        break;
                    default:
                        reader.Read();
                        reader.Skip();
                        break;
                }
            }

            outputs.Add(new RequestedOutput(name ?? throw ApiException.BadRequest("a requested output has no 'name'"), binary));
        }

        return outputs;
    }

    /// <summary>Advances to the next property of the current object; false at its end.</summary>
    private static bool ReadProperty(ref Utf8JsonReader reader, out string name)
    {
        var token = Next(ref reader);
        if (token == JsonTokenType.EndObject)
        {
            name = "";
            return false;
        }

        name = GetString(ref reader);
        return true;
    }

    /// <summary>
    /// The current string token. The reader checks a string's UTF-8 only when it is transcoded, and
    /// says so with an <see cref="InvalidOperationException"/>: that is the client's malformed JSON.
    /// </summary>
    private static string GetString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException ex) when (ex.InnerException is System.Text.DecoderFallbackException)
        {
            throw ApiException.BadRequest($"malformed JSON: invalid UTF-8 in a string ending at byte {reader.BytesConsumed}");
        }
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw ApiException.BadRequest("malformed JSON: the body ends early");
        }

        return reader.TokenType;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType token, string message)
    {
        if (Next(ref reader) != token)
        {
            throw ApiException.BadRequest(message);
        }
    }

    private static string ReadString(ref Utf8JsonReader reader, string message)
    {
        Expect(ref reader, JsonTokenType.String, message);
        return GetString(ref reader);
    }
}
