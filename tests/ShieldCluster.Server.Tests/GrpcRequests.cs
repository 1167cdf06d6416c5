using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Mvc.Testing;
using ShieldCluster.Server.Grpc.Protocol;
using ShieldCluster.Testing;

namespace ShieldCluster.Server.Tests;

/// <summary>gRPC clients of a test server and ModelInfer messages built from real Fashion-MNIST test images.</summary>
internal static class GrpcRequests
{
    public const string Model = "fashion-mnist";

    /// <summary>A client of the factory's in-memory server (gRPC over its TestServer handler).</summary>
    public static GRPCInferenceService.GRPCInferenceServiceClient Client<T>(WebApplicationFactory<T> factory)
        where T : class
    {
        var channel = GrpcChannel.ForAddress(factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = factory.Server.CreateHandler() });
        return new GRPCInferenceService.GRPCInferenceServiceClient(channel);
    }

    /// <summary>The <c>authorization: Bearer</c> metadata of <paramref name="key"/>; none for null.</summary>
    public static Metadata Key(string? key) => key is null ? new Metadata() : new Metadata { { "authorization", $"Bearer {key}" } };

    /// <summary>Test images [first, first+count) as FP32 values.</summary>
    public static float[] Images(int first, int count) =>
        FashionMnist.TestSet.Images.AsSpan(first * FashionMnist.Pixels, count * FashionMnist.Pixels).ToArray();

    /// <summary>A request whose one input carries <paramref name="values"/> in <c>contents.fp32_contents</c>, or as raw bytes.</summary>
    public static ModelInferRequest Infer(float[] values, bool raw, string? id = null)
    {
        var count = values.Length / FashionMnist.Pixels;
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32", Shape = { count, 1, 28, 28 } };
        var request = new ModelInferRequest { ModelName = Model, Id = id ?? "", Inputs = { input } };
        if (raw)
        {
            request.RawInputContents.Add(ByteString.CopyFrom(RawBytes(values)));
        }
        else
        {
            input.Contents = new InferTensorContents { Fp32Contents = { values } };
        }

        return request;
    }

    /// <summary>Test images [first, first+count) as a request.</summary>
    public static ModelInferRequest Infer(int first, int count, bool raw = false) => Infer(Images(first, count), raw);

    public static byte[] RawBytes(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    /// <summary>The first output's values, from <c>contents</c> or <c>raw_output_contents</c> as the response has them.</summary>
    public static float[] Scores(ModelInferResponse response)
    {
        var output = response.Outputs[0];
        Assert.Equal("probabilities", output.Name);
        Assert.Equal("FP32", output.Datatype);
        if (response.RawOutputContents.Count == 0)
        {
            return [.. output.Contents.Fp32Contents];
        }

        Assert.Null(output.Contents);
        var raw = response.RawOutputContents[0].Span;
        var values = new float[raw.Length / 4];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]);
        }

        return values;
    }

    /// <summary>The predicted class of each item.</summary>
    public static int[] Predictions(ModelInferResponse response)
    {
        var scores = Scores(response);
        var classes = (int)response.Outputs[0].Shape[1];
        return [.. Enumerable.Range(0, scores.Length / classes).Select(i => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(scores.AsSpan(i * classes, classes)))];
    }
}
