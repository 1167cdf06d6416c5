using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using ShieldCluster.Testing;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// Triton's binary tensor extension of the HTTP protocol (<c>Inference-Header-Content-Length</c>):
/// the same answers as JSON, 400 for inconsistent sizes, 413 past the limit, never a 5xx.
/// </summary>
public class BinaryHttpTests(ShieldServerFactory server) : IClassFixture<ShieldServerFactory>
{
    private const string HeaderName = "Inference-Header-Content-Length";
    private const int ImageBytes = FashionMnist.Pixels * 4;

    public enum Mode
    {
        /// <summary>Binary input, output asks binary_data.</summary>
        BinaryInBinaryOut,

        /// <summary>Binary input, JSON output.</summary>
        BinaryInJsonOut,

        /// <summary>Plain JSON request, request-level binary_data_output.</summary>
        JsonInBinaryOut,

        /// <summary>Binary input, request-level binary_data_output with no outputs listed.</summary>
        BinaryInAllBinaryOut,
    }

    [Theory]
    [InlineData(Mode.BinaryInBinaryOut, 40)]
    [InlineData(Mode.BinaryInJsonOut, 50)]
    [InlineData(Mode.JsonInBinaryOut, 60)]
    [InlineData(Mode.BinaryInAllBinaryOut, 70)]
    public async Task RoundTrip_SameProbabilitiesAsJson(Mode mode, int first)
    {
        const int count = 8;
        var images = FashionMnist.TestSet.Images.AsSpan(first * FashionMnist.Pixels, count * FashionMnist.Pixels).ToArray();
        HttpContent content = mode switch
        {
            Mode.BinaryInBinaryOut => Binary(Header(count, outputs: "\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{\"binary_data\":true}}]"), Bytes(images)),
            Mode.BinaryInJsonOut => Binary(Header(count, outputs: "\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{\"binary_data\":false}}],\"parameters\":{\"binary_data_output\":true}"), Bytes(images)),
            Mode.JsonInBinaryOut => Content(Json(first, count, id: "binary-test").Insert(1, "\"parameters\":{\"binary_data_output\":true,\"unknown\":[1,{}]},")),
            _ => Binary(Header(count, outputs: "\"parameters\":{\"binary_data_output\":true}"), Bytes(images)),
        };
        var response = await server.ClientWithKey(ShieldServerFactory.FuzzKey).PostAsync(InferPath, content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.Contains("RateLimit-Remaining"));
        var (json, scores) = await ReadAsync(response);
        Assert.Equal("binary-test", (string?)json["id"]);
        var output = json["outputs"]![0]!;
        Assert.Equal("probabilities", (string?)output["name"]);
        Assert.Equal([count, 10], output["shape"]!.AsArray().Select(d => (int)d!));
        var binaryOut = mode != Mode.BinaryInJsonOut;
        Assert.Equal(binaryOut, response.Headers.Contains(HeaderName));
        Assert.Equal(binaryOut, output["data"] is null);
        if (binaryOut)
        {
            Assert.Equal(count * 10 * 4, (int)output["parameters"]!["binary_data_size"]!);
        }

        var reference = await PostAsync(server.ClientWithKey(ShieldServerFactory.AliceKey), Json(first, count, id: "binary-test"));
        var expected = (await reference.Content.ReadFromJsonAsync<JsonObject>())!["outputs"]![0]!["data"]!.AsArray().Select(v => (float)v!).ToArray();
        Assert.Equal(expected, scores);
    }

    public static TheoryData<string, string> InconsistentBodies => new()
    {
        { "header beyond the body", "but the body has only" },
        { "size beyond the data", "bytes of binary data remain" },
        { "data beyond the sizes", "add up to" },
        { "size not a multiple of 4", "not a multiple of 4" },
        { "one value short", "has 783 values" },
        { "data and size", "both 'data' and 'binary_data_size'" },
        { "size without the header", "has no Inference-Header-Content-Length header" },
        { "header not a number", "must be one non-negative integer" },
        { "negative header", "must be one non-negative integer" },
        { "negative size", "'binary_data_size' must be a non-negative integer" },
        { "size as a string", "'binary_data_size' must be a non-negative integer" },
        { "binary_data not a boolean", "must be true or false" },
        { "empty header", "request body is empty" },
        { "header cuts the JSON", "malformed JSON" },
        { "NaN in the data", "NaN or infinity" },
        { "out of range in the data", "outside the model's range" },
        { "wrong datatype", "the model expects FP32" },
    };

    [Theory]
    [MemberData(nameof(InconsistentBodies))]
    public async Task InconsistentBinaryBody_Is400WithAMessage(string problem, string message)
    {
        var image = FashionMnist.TestImage(0);
        var bytes = Bytes(image);
        HttpContent content = problem switch
        {
            "header beyond the body" => Binary(Header(1), bytes, headerLength: "99999"),
            "size beyond the data" => Binary(Header(1), bytes[..^4]),
            "data beyond the sizes" => Binary(Header(1), [.. bytes, 0, 0, 0, 0]),
            "size not a multiple of 4" => Binary(Header(1, size: ImageBytes - 2), bytes[..^2]),
            "one value short" => Binary(Header(1, size: ImageBytes - 4), bytes[..^4]),
            "data and size" => Binary(Header(1).Replace("\"parameters\"", "\"data\":[0],\"parameters\"", StringComparison.Ordinal), bytes),
            "size without the header" => Content(Header(1)),
            "header not a number" => Binary(Header(1), bytes, headerLength: "abc"),
            "negative header" => Binary(Header(1), bytes, headerLength: "-5"),
            "negative size" => Binary(Header(1, size: -4), bytes),
            "size as a string" => Binary(Header(1).Replace($"{ImageBytes}", $"\"{ImageBytes}\"", StringComparison.Ordinal), bytes),
            "binary_data not a boolean" => Binary(Header(1, outputs: "\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{\"binary_data\":\"yes\"}}]"), bytes),
            "empty header" => Binary(Header(1), bytes, headerLength: "0"),
            "header cuts the JSON" => Binary(Header(1), bytes, headerLength: "20"),
            "NaN in the data" => Binary(Header(1), Bytes([float.NaN, .. image[1..]])),
            "out of range in the data" => Binary(Header(1), Bytes([3f, .. image[1..]])),
            "wrong datatype" => Binary(Header(1).Replace("FP32", "FP16", StringComparison.Ordinal), bytes),
            _ => throw new ArgumentException(problem, nameof(problem)),
        };
        var response = await server.ClientWithKey(ShieldServerFactory.AliceKey).PostAsync(InferPath, content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await ErrorAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BinaryBodyOverTheLimit_Is413()
    {
        var count = (int)(ShieldServerFactory.BodyLimit / ImageBytes) + 1;
        var response = await server.ClientWithKey(ShieldServerFactory.AliceKey).PostAsync(InferPath, Binary(Header(count), new byte[count * ImageBytes]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.NotEmpty(await ErrorAsync(response));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task MalformedBinaryBodies_NeverAnswer5xx(int seed)
    {
        var random = new Random(seed);
        var client = server.ClientWithKey(ShieldServerFactory.FuzzKey);
        var statuses = new Dictionary<HttpStatusCode, int>();
        for (var i = 0; i < 120; i++)
        {
            var (header, data, headerLength) = Mutate(random, i);
            var response = await client.PostAsync(InferPath, Binary(header, data, headerLength));
            var status = (int)response.StatusCode;
            Assert.True(status < 500, $"seed {seed}, case {i}: {response.StatusCode} for header length {headerLength} and '{header}'");
            statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
            if (status >= 400)
            {
                Assert.NotEmpty(await ErrorAsync(response));
            }
        }

        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.BadRequest) > 40, $"the mutations hardly ever broke the request: {string.Join(", ", statuses)}");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(server.ClientWithKey(ShieldServerFactory.AliceKey), Json(9, 1))).StatusCode);
    }

    private static (string Header, byte[] Data, string HeaderLength) Mutate(Random random, int i)
    {
        var image = FashionMnist.TestImage(1_000 + (i % 50));
        var header = Header(1);
        var data = Bytes(image);
        string? headerLength = null;
        switch (random.Next(8))
        {
            case 0:
                headerLength = random.Next(-3, Encoding.UTF8.GetByteCount(header) + 64).ToString(CultureInfo.InvariantCulture);
                break;
            case 1:
                header = Header(1, size: random.Next(-8, ImageBytes * 2));
                break;
            case 2:
                data = data[..random.Next(data.Length)];
                break;
            case 3:
                data = [.. data, .. new byte[random.Next(1, 64)]];
                break;
            case 4:
                var chars = header.ToCharArray();
                chars[random.Next(chars.Length)] = (char)random.Next(32, 127);
                header = new string(chars);
                break;
            case 5:
                random.NextBytes(data.AsSpan(random.Next(data.Length - 4), 4));
                break;
            case 6:
                header = header.Remove(random.Next(header.Length), 1);
                break;
            default:
                headerLength = new[] { "", " ", "1e3", "0x10", "99999999999999999999", "12,13" }[random.Next(6)];
                break;
        }

        return (header, data, headerLength ?? Encoding.UTF8.GetByteCount(header).ToString(CultureInfo.InvariantCulture));
    }

    private static string Header(int count, long? size = null, string? outputs = null) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{{\"id\":\"binary-test\",\"inputs\":[{{\"name\":\"input\",\"shape\":[{count},1,28,28],\"datatype\":\"FP32\",\"parameters\":{{\"binary_data_size\":{size ?? ((long)count * ImageBytes)}}}}}]{(outputs is null ? "" : "," + outputs)}}}");

    private static byte[] Bytes(float[] values) => GrpcRequests.RawBytes(values);

    /// <summary>A body of Triton's binary tensor extension: <paramref name="header"/> as JSON, then <paramref name="data"/>.</summary>
    internal static ByteArrayContent Binary(string header, byte[] data, string? headerLength = null) =>
        Binary(Encoding.UTF8.GetBytes(header), data, headerLength);

    /// <summary>As <see cref="Binary(string, byte[], string?)"/>, the header as bytes (which need not be UTF-8).</summary>
    internal static ByteArrayContent Binary(byte[] json, byte[] data, string? headerLength = null)
    {
        var content = new ByteArrayContent([.. json, .. data]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.TryAddWithoutValidation(HeaderName, headerLength ?? json.Length.ToString(CultureInfo.InvariantCulture));
        return content;
    }

    /// <summary>The JSON (header) of a response and the first output's values, from JSON or the binary part.</summary>
    private static async Task<(JsonObject Json, float[] Scores)> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsByteArrayAsync();
        if (!response.Headers.TryGetValues(HeaderName, out var headerValues))
        {
            Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
            var plain = JsonNode.Parse(body)!.AsObject();
            return (plain, [.. plain["outputs"]![0]!["data"]!.AsArray().Select(v => (float)v!)]);
        }

        var length = int.Parse(headerValues.Single(), CultureInfo.InvariantCulture);
        Assert.Equal(body.Length, (int)response.Content.Headers.ContentLength!);
        var json = JsonNode.Parse(body.AsSpan(0, length))!.AsObject();
        var raw = body.AsSpan(length);
        Assert.Equal((int)json["outputs"]![0]!["parameters"]!["binary_data_size"]!, raw.Length);
        var scores = new float[raw.Length / 4];
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]);
        }

        return (json, scores);
    }
}
