using System.Net;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

public class BadInputTests(ShieldServerFactory server) : IClassFixture<ShieldServerFactory>
{
    private static string Input(string shape, string datatype, string data, string name = "input") =>
        $"{{\"inputs\":[{{\"name\":\"{name}\",\"shape\":{shape},\"datatype\":\"{datatype}\",\"data\":{data}}}]}}";

    private static string Zeros(int n) => "[" + string.Join(',', Enumerable.Repeat("0", n)) + "]";

    public static TheoryData<string, string> Cases => new()
    {
        { "", "request body is empty" },
        { "{", "malformed JSON" },
        { "[]", "must be a JSON object" },
        { "{\"inputs\":[]}", "no 'inputs'" },
        { "{\"id\":5,\"inputs\":[]}", "'id' must be a string" },
        { "{\"inputs\":{}}", "'inputs' must be an array" },
        { "{\"inputs\":[7]}", "each input must be an object" },
        { "{\"inputs\":[{\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[0]}]}", "has no 'name'" },
        { Input("[1,1,28,28]", "FP32", Zeros(784), name: "pixels"), "unknown input 'pixels'" },
        { Input("[1,784]", "FP32", Zeros(784)), "the model expects [-1,1,28,28]" },
        { Input("[1,1,28,28]", "FP64", Zeros(784)), "the model expects FP32" },
        { Input("[1,1,28,28]", "FP32", Zeros(783)), "has 783 values" },
        { Input("[65,1,28,28]", "FP32", Zeros(65 * 784)), "batch size 65 exceeds the model's max_batch_size 64" },
        { Input("[1,1,28,28]", "FP32", "[" + string.Join(',', Enumerable.Repeat("2", 784)) + "]"), "outside the model's range" },
        { Input("[1,1,28,28]", "FP32", "[-1," + string.Join(',', Enumerable.Repeat("0", 783)) + "]"), "outside the model's range" },
        { Input("[1,1,28,28]", "FP32", "[1e39" + "," + string.Join(',', Enumerable.Repeat("0", 783)) + "]"), "NaN or infinity" },
        { Input("[1,1,28,28]", "FP32", "[NaN" + "," + string.Join(',', Enumerable.Repeat("0", 783)) + "]"), "malformed JSON" },
        { Input("[1,1,28,28]", "FP32", "[\"NaN\"" + "," + string.Join(',', Enumerable.Repeat("0", 783)) + "]"), "FP32 data must be numbers" },
        { Input("[1,1,28,28]", "FP32", "[true" + "," + string.Join(',', Enumerable.Repeat("0", 783)) + "]"), "FP32 data must be numbers" },
        { Input("[1,1,28,-28]", "FP32", Zeros(784)), "non-negative integers" },
        { Input("[1,1,28,28.5]", "FP32", Zeros(784)), "non-negative integers" },
        { Input("\"1,1,28,28\"", "FP32", Zeros(784)), "'shape' must be an array" },
        { Input("[1,1,28,28]", "FP32", "{}"), "'data' must be an array" },
        { Input("[1,1,28,28]", "FP32", "[{\"a\":1}]"), "must be an array of numbers" },
        { "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\"}]}", "has no 'data'" },
        { "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[0]}]} trailing", "malformed JSON" },
        { "{\"parameters\":[],\"inputs\":[]}", "'parameters' must be an object" },
        { "{\"outputs\":[{}],\"inputs\":[]}", "has no 'name'" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Infer_MalformedRequest_Is400WithAMessage(string body, string expected)
    {
        var response = await PostAsync(server.ClientWithKey(ShieldServerFactory.AliceKey), body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorAsync(response);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_DuplicateInput_Is400()
    {
        var one = $"{{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":{Zeros(784)}}}";
        var response = await PostAsync(server.ClientWithKey(ShieldServerFactory.AliceKey), $"{{\"inputs\":[{one},{one}]}}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("more than once", await ErrorAsync(response), StringComparison.Ordinal);
    }

    /// <summary>Where a request carries strings: "@@" marks where invalid UTF-8 goes.</summary>
    public static TheoryData<string> StringSites => new()
    {
        "{\"@@\":1,\"inputs\":[]}",
        "{\"id\":\"a@@\",\"inputs\":[]}",
        "{\"inputs\":[{\"name\":\"@@\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[0]}]}",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP@@\",\"data\":[0]}]}",
        "{\"inputs\":[{\"name\":\"input\",\"sh@@ape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[0]}]}",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[\"@@\"]}]}",
        "{\"inputs\":[],\"outputs\":[{\"name\":\"@@\"}]}",
        "{\"parameters\":{\"@@\":true},\"inputs\":[]}",
    };

    /// <summary>
    /// Invalid UTF-8 inside a JSON string (which the reader checks only when the string is read) is
    /// the client's malformed JSON: 400, in a JSON body and in a binary request's JSON header.
    /// </summary>
    [Theory]
    [MemberData(nameof(StringSites))]
    public async Task Infer_InvalidUtf8InAString_Is400(string template)
    {
        var client = server.ClientWithKey(ShieldServerFactory.AliceKey);
        byte[][] invalid = [[0xE6], [0xFF], [0xC3, 0x28], [0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80]];
        foreach (var bytes in invalid)
        {
            var parts = template.Split("@@");
            byte[] body = [.. System.Text.Encoding.UTF8.GetBytes(parts[0]), .. bytes, .. System.Text.Encoding.UTF8.GetBytes(parts[1])];
            var response = await client.PostAsync(InferPath, Content(body));
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{Convert.ToHexString(bytes)} in {template}: {response.StatusCode}");
            Assert.NotEmpty(await ErrorAsync(response));

            response = await client.PostAsync(InferPath, BinaryHttpTests.Binary(body, new byte[16]));
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"binary header, {Convert.ToHexString(bytes)} in {template}: {response.StatusCode}");
            Assert.NotEmpty(await ErrorAsync(response));
        }
    }

    [Fact]
    public async Task Infer_BadRequests_SpendNoQuota()
    {
        var client = server.ClientWithKey(ShieldServerFactory.DailyKey);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(client, "{")).StatusCode);
        }

        // The daily plan allows 3 items: all three are still there.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Json(0, 3))).StatusCode);
    }
}
