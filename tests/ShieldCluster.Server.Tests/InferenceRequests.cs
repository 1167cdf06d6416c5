using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ShieldCluster.Testing;

namespace ShieldCluster.Server.Tests;

/// <summary>Builds Open Inference Protocol JSON bodies from real Fashion-MNIST test images.</summary>
internal static class InferenceRequests
{
    public const string InferPath = "/v2/models/fashion-mnist/infer";

    /// <summary>A request for test images [first, first+count), data flat or nested [N][1][28][28].</summary>
    public static string Json(int first, int count, bool nested = false, string? id = null)
    {
        var builder = new StringBuilder();
        builder.Append('{');
        if (id is not null)
        {
            builder.Append(CultureInfo.InvariantCulture, $"\"id\":\"{id}\",");
        }

        builder.Append(CultureInfo.InvariantCulture, $"\"inputs\":[{{\"name\":\"input\",\"shape\":[{count},1,28,28],\"datatype\":\"FP32\",\"data\":");
        var images = FashionMnist.TestSet.Images;
        builder.Append('[');
        for (var n = 0; n < count; n++)
        {
            var image = images.AsSpan((first + n) * FashionMnist.Pixels, FashionMnist.Pixels);
            if (nested)
            {
                builder.Append(n > 0 ? ",[[" : "[[");
            }

            for (var y = 0; y < 28; y++)
            {
                if (nested)
                {
                    builder.Append(y > 0 ? ",[" : "[");
                }

                for (var x = 0; x < 28; x++)
                {
                    if (x > 0 || (!nested && (y > 0 || n > 0)))
                    {
                        builder.Append(',');
                    }

                    builder.Append(image[(y * 28) + x].ToString("R", CultureInfo.InvariantCulture));
                }

                if (nested)
                {
                    builder.Append(']');
                }
            }

            if (nested)
            {
                builder.Append("]]");
            }
        }

        builder.Append("]}]}");
        return builder.ToString();
    }

    public static StringContent Content(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>A JSON body as bytes, as they are (which need not be UTF-8).</summary>
    public static ByteArrayContent Content(byte[] json)
    {
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    public static Task<HttpResponseMessage> PostAsync(HttpClient client, string json, string path = InferPath) =>
        client.PostAsync(path, Content(json));

    /// <summary>The predicted class of each item in a successful response.</summary>
    public static async Task<int[]> PredictionsAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        var output = body!["outputs"]![0]!;
        Assert.Equal("probabilities", (string?)output["name"]);
        Assert.Equal("FP32", (string?)output["datatype"]);
        var shape = output["shape"]!.AsArray().Select(d => (int)d!).ToArray();
        var data = output["data"]!.AsArray().Select(v => (float)v!).ToArray();
        Assert.Equal(shape[0] * shape[1], data.Length);
        return [.. Enumerable.Range(0, shape[0]).Select(i => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(data.AsSpan(i * shape[1], shape[1])))];
    }

    public static async Task<string> ErrorAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("error").GetString()!;
    }
}
