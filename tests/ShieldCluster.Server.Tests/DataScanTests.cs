using System.Globalization;
using System.Text;
using System.Text.Json;
using ShieldCluster.Server.Http;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// The data arrays' scan (numbers read straight from the body, the JSON reader restarted after the
/// array): the same values, the same problems and the same errors as reading every token through
/// the reader, and the rest of the request still read correctly after it.
/// </summary>
public sealed class DataScanTests
{
    private static string Body(string data, string after = "") =>
        $"{{\"inputs\":[{{\"name\":\"input\",\"datatype\":\"FP32\",\"data\":{data},\"shape\":[1,2]{after}}}]}}";

    private static float[] Parse(string body) => InferRequestParser.Parse(Encoding.UTF8.GetBytes(body)).Inputs[0].Data!;

    /// <summary>Every number of a JSON value, in document order, as the reader's own parser reads it.</summary>
    private static float[] Reference(string data)
    {
        using var document = JsonDocument.Parse(data);
        var values = new List<float>();
        Flatten(document.RootElement, values);
        return [.. values];
    }

    private static void Flatten(JsonElement element, List<float> values)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Flatten(item, values);
            }
        }
        else
        {
            values.Add(element.GetSingle());
        }
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[0]")]
    [InlineData("[ 1 , 2 ]")]
    [InlineData("[\n\t1,\r\n-2.5e-3 ]")]
    [InlineData("[[1,2],[3,4]]")]
    [InlineData("[[[0.1]],[[-0],[1E+2]]]")]
    [InlineData("[[],[1],[]]")]
    [InlineData("[0.003921569,0.9960784,1e-45,3.4028235e38,123456789012345678901234567890]")]
    public void Numbers_AreTheReadersValues(string data)
    {
        var expected = Reference(data);
        var parsed = Parse(Body(data));
        Assert.Equal(expected.Select(BitConverter.SingleToUInt32Bits), parsed.Select(BitConverter.SingleToUInt32Bits));
    }

    [Fact]
    public void AfterTheArray_TheRestOfTheRequest_IsRead()
    {
        var body = "{\"id\":\"x\",\"inputs\":[" +
            "{\"name\":\"a\",\"data\":[1,2],\"datatype\":\"FP32\",\"shape\":[2],\"parameters\":{\"k\":1}}," +
            "{\"name\":\"b\",\"datatype\":\"FP32\",\"data\":[[3],[4]],\"shape\":[2,1]}]," +
            "\"outputs\":[{\"name\":\"probabilities\"}],\"parameters\":{\"binary_data_output\":true}}";
        var request = InferRequestParser.Parse(Encoding.UTF8.GetBytes(body));
        Assert.Equal("x", request.Id);
        Assert.Equal([1f, 2f], request.Inputs[0].Data!);
        Assert.Equal([2L], request.Inputs[0].Shape!);
        Assert.Equal("b", request.Inputs[1].Name);
        Assert.Equal([3f, 4f], request.Inputs[1].Data!);
        Assert.Equal([2L, 1L], request.Inputs[1].Shape!);
        Assert.Equal("probabilities", Assert.Single(request.Outputs!).Name);
        Assert.True(request.BinaryDataOutput);
    }

    [Theory]
    [InlineData("[1,]")]
    [InlineData("[01]")]
    [InlineData("[1.]")]
    [InlineData("[.5]")]
    [InlineData("[-]")]
    [InlineData("[+1]")]
    [InlineData("[1e]")]
    [InlineData("[1 2]")]
    [InlineData("[1,,2]")]
    [InlineData("[,1]")]
    [InlineData("[[1][2]]")]
    [InlineData("[1}")]
    [InlineData("[1, 2")]
    [InlineData("[0x10]")]
    [InlineData("[1/*c*/]")]
    public void MalformedArrays_AreA400_FromTheReader(string data)
    {
        var error = Assert.Throws<ApiException>(() => Parse(Body(data)));
        Assert.Equal(400, error.StatusCode);
    }

    [Fact]
    public void ContentAfterTheRequest_IsStillRefused()
    {
        var error = Assert.Throws<ApiException>(() => Parse(Body("[1,2]") + " {}"));
        Assert.Equal(400, error.StatusCode);
    }

    [Theory]
    [InlineData("[1,\"2\"]", 2, "'data' holds a string at index 1; FP32 data must be numbers")]
    [InlineData("[1,true]", 2, "'data' holds a true at index 1; FP32 data must be numbers")]
    [InlineData("[[1],[null]]", 2, "'data' holds a null at index 1; FP32 data must be numbers")]
    [InlineData("[1,1e39]", 2, "'data' holds a number that is not a finite FP32 value at index 1 (NaN or infinity)")]
    [InlineData("[1e39,\"x\",3]", 3, "'data' holds a number that is not a finite FP32 value at index 0 (NaN or infinity)")]
    public void ProblemValues_AreReportedAsBefore(string data, int count, string problem)
    {
        var input = InferRequestParser.Parse(Encoding.UTF8.GetBytes(Body(data))).Inputs[0];
        Assert.Equal(problem, input.DataProblem);
        Assert.Equal(count, input.Data!.Length);
    }

    [Fact]
    public void RandomArrays_WithRandomSpacingAndNesting_AreTheReadersValues()
    {
        var random = new Random(2026);
        string[] spaces = ["", " ", "\n", "\t", "\r\n", "  "];
        for (var n = 0; n < 2_000; n++)
        {
            var builder = new StringBuilder();
            Write(builder, random, spaces, depth: 0);
            var data = builder.ToString();
            var expected = Reference(data);
            var parsed = Parse(Body(data));
            Assert.True(
                expected.Select(BitConverter.SingleToUInt32Bits).SequenceEqual(parsed.Select(BitConverter.SingleToUInt32Bits)),
                $"different values for {data}");
        }
    }

    private static void Write(StringBuilder builder, Random random, string[] spaces, int depth)
    {
        builder.Append('[').Append(spaces[random.Next(spaces.Length)]);
        var items = random.Next(0, 6);
        for (var i = 0; i < items; i++)
        {
            if (i > 0)
            {
                builder.Append(spaces[random.Next(spaces.Length)]).Append(',').Append(spaces[random.Next(spaces.Length)]);
            }

            if (depth < 4 && random.Next(4) == 0)
            {
                Write(builder, random, spaces, depth + 1);
            }
            else
            {
                var value = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-40, 39)));
                var format = random.Next(4) switch { 0 => "R", 1 => "E3", 2 => "G17", _ => "F2" };
                builder.Append(format == "G17" ? ((double)value).ToString(format, CultureInfo.InvariantCulture) : value.ToString(format, CultureInfo.InvariantCulture));
            }
        }

        builder.Append(spaces[random.Next(spaces.Length)]).Append(']');
    }
}
