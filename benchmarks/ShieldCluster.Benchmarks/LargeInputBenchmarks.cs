using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using ShieldCluster.Protection.Features;
using ShieldCluster.Protection.Numerics;

namespace ShieldCluster.Benchmarks;

/// <summary>
/// A ResNet-50-sized FP16 input (3x224x224, as the GPU path's fp16 models take it) on the serving
/// silo: its features (digest, per-channel cells, thumbnail), and its widening to FP32 (squeezed
/// copies, FP32 graphs) against <see cref="TensorPrimitives"/>' widening.
/// </summary>
[MemoryDiagnoser]
public class LargeInputBenchmarks
{
    private readonly QueryFeatureExtractor _extractor = new([3, 224, 224], 0f, 1f);
    private readonly Half[] _image = new Half[3 * 224 * 224];
    private readonly float[] _widened = new float[3 * 224 * 224];
    private float[] _cells = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        for (var i = 0; i < _image.Length; i++)
        {
            _image[i] = (Half)random.NextSingle();
        }

        _cells = new float[_extractor.ChannelCellsLength];
    }

    /// <summary>Digest, cells and thumbnail of one FP16 image (its bands summed as they widen).</summary>
    [Benchmark]
    public QueryFeatures ExtractFp16() => _extractor.Extract(_image, _cells);

    /// <summary>The whole image widened by <see cref="HalfWidening"/>.</summary>
    [Benchmark]
    public float WidenFp16()
    {
        HalfWidening.Widen(_image, _widened);
        return _widened[^1];
    }

    /// <summary>The whole image widened by <see cref="TensorPrimitives.ConvertToSingle(ReadOnlySpan{Half}, Span{float})"/> (the baseline).</summary>
    [Benchmark(Baseline = true)]
    public float WidenFp16TensorPrimitives()
    {
        TensorPrimitives.ConvertToSingle(_image, _widened);
        return _widened[^1];
    }
}
