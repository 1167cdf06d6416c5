using System.Net;
using System.Text;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// A seeded corpus of random mutations of a valid request: whatever arrives, the answer is a 2xx
/// or a 4xx with an error message, never a 5xx, and the server keeps serving.
/// </summary>
public class FuzzTests(ShieldServerFactory server) : IClassFixture<ShieldServerFactory>
{
    private static readonly string[] Tokens =
        ["null", "[", "]", "{", "}", ",", ":", "\"", "-", "1e999", "-1e999", "NaN", "\"x\"", "true", "0.5", "99999999999999999999", "\\u0000", "\"inputs\"", "\"data\"", "\"shape\"", "[[[[[[[[[[", "\uFFFF", "1.0e-50"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Infer_MutatedRequests_NeverAnswer5xx(int seed)
    {
        var random = new Random(seed);
        var valid = Json(seed, 1);
        var client = server.ClientWithKey(ShieldServerFactory.FuzzKey);
        var statuses = new Dictionary<HttpStatusCode, int>();
        for (var i = 0; i < 150; i++)
        {
            var mutated = Mutate(valid, random);
            var response = await PostAsync(client, mutated);
            var status = (int)response.StatusCode;
            Assert.True(status < 500, $"seed {seed}, case {i}: {response.StatusCode} for a body starting '{Truncate(mutated)}'");
            statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
            if (status >= 400)
            {
                Assert.NotEmpty(await ErrorAsync(response));
            }
        }

        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.BadRequest) > 50, "the mutations hardly ever broke the request: the fuzzer tests nothing");
        // The fuzzer itself may end up blocked: its valid mutations are near-duplicates of one image,
        // which is what a query-based attack looks like. Another client is served as before.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(server.ClientWithKey(ShieldServerFactory.AliceKey), valid)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.CreateClient().GetAsync("/v2/health/ready")).StatusCode);
    }

    /// <summary>
    /// The same at the byte level, where a string mutation cannot go: bytes that are not UTF-8
    /// (0x80-0xFF anywhere, strings included), in JSON bodies and in binary requests' JSON headers.
    /// </summary>
    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public async Task Infer_ByteMutatedRequests_NeverAnswer5xx(int seed)
    {
        var random = new Random(seed);
        var valid = Encoding.UTF8.GetBytes(Json(seed, 1).Replace("\"inputs\"", "\"id\":\"fuzz\",\"inputs\"", StringComparison.Ordinal));
        var client = server.ClientWithKey(ShieldServerFactory.ByteFuzzKey);
        var refused = 0;
        for (var i = 0; i < 150; i++)
        {
            var mutated = new List<byte>(valid);
            for (var m = random.Next(1, 4); m > 0 && mutated.Count > 0; m--)
            {
                var at = random.Next(mutated.Count);
                switch (random.Next(3))
                {
                    case 0:
                        mutated[at] = (byte)random.Next(0x80, 0x100);
                        break;
                    case 1:
                        mutated.InsertRange(at, [(byte)random.Next(0xC0, 0x100), (byte)random.Next(0x00, 0x100)]);
                        break;
                    default:
                        mutated[at] = (byte)random.Next(0x100);
                        break;
                }
            }

            var body = mutated.ToArray();
            var response = await client.PostAsync(InferPath, i % 3 == 0 ? BinaryHttpTests.Binary(body, new byte[8]) : Content(body));
            var status = (int)response.StatusCode;
            Assert.True(status < 500, $"seed {seed}, case {i}: {response.StatusCode} for a body starting '{Truncate(Encoding.Latin1.GetString(body))}'");
            if (status >= 400)
            {
                refused++;
                Assert.NotEmpty(await ErrorAsync(response));
            }
        }

        Assert.True(refused > 50, "the mutations hardly ever broke the request: the fuzzer tests nothing");
        Assert.Equal(HttpStatusCode.OK, (await server.CreateClient().GetAsync("/v2/health/ready")).StatusCode);
    }

    private static string Mutate(string json, Random random)
    {
        var text = new StringBuilder(json);
        var mutations = random.Next(1, 4);
        for (var m = 0; m < mutations && text.Length > 0; m++)
        {
            var at = random.Next(text.Length);
            switch (random.Next(7))
            {
                case 0:
                    text[at] = (char)random.Next(32, 127);
                    break;
                case 1:
                    text.Remove(at, Math.Min(random.Next(1, 40), text.Length - at));
                    break;
                case 2:
                    var length = Math.Min(random.Next(1, 60), text.Length - at);
                    text.Insert(random.Next(text.Length), text.ToString(at, length));
                    break;
                case 3:
                    text.Insert(at, Tokens[random.Next(Tokens.Length)]);
                    break;
                case 4:
                    text.Length = at;
                    break;
                case 5:
                    // Swap a small structural region: the attacker's favourite, shape vs data.
                    text.Replace("[1,1,28,28]", random.Next(2) == 0 ? "[1,28,28,1]" : "[2,1,28,28]");
                    break;
                default:
                    text.Replace("\"FP32\"", random.Next(2) == 0 ? "\"BYTES\"" : "\"fp32\"");
                    break;
            }
        }

        return text.ToString();
    }

    private static string Truncate(string text) => text.Length <= 120 ? text : text[..120] + "...";
}
