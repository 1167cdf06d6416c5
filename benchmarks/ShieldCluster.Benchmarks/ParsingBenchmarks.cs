using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using ShieldCluster.Server.Http;
using ShieldCluster.Testing;

namespace ShieldCluster.Benchmarks;

/// <summary>Parsing Open Inference Protocol JSON requests straight into float arrays.</summary>
[MemoryDiagnoser]
public class ParsingBenchmarks
{
    private byte[] _body = null!;

    /// <summary>Images per request.</summary>
    [Params(1, 64)]
    public int Images { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var images = FashionMnist.TestSet.Images;
        var json = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[{Images},1,28,28],\"datatype\":\"FP32\",\"data\":["));
        for (var i = 0; i < Images * 784; i++)
        {
            json.Append(i > 0 ? "," : "").Append(images[i].ToString("R", CultureInfo.InvariantCulture));
        }

        _body = Encoding.UTF8.GetBytes(json.Append("]}]}").ToString());
    }

    [Benchmark]
    public int Parse() => InferRequestParser.Parse(_body).Inputs[0].Data!.Length;
}
