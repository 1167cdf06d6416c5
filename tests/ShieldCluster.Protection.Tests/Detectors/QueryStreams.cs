using ShieldCluster.Protection.Features;
using ShieldCluster.Testing;

namespace ShieldCluster.Protection.Tests.Detectors;

/// <summary>Generated query streams over real Fashion-MNIST test images, as byte features with a class.</summary>
internal static class QueryStreams
{
    private static readonly QueryFeatureExtractor Extractor = new([1, 28, 28], 0f, 1f);

    public static byte[] Features(ReadOnlySpan<float> image) => Extractor.Extract(image).Thumbnail;

    public static QueryFeatures Extract(ReadOnlySpan<float> image) => Extractor.Extract(image);

    /// <summary>Honest traffic: test images in random order, labelled with their true class.</summary>
    public static IEnumerable<(int Label, float[] Image)> Honest(int count, int seed)
    {
        var random = new Random(seed);
        var (_, labels) = FashionMnist.TestSet;
        for (var i = 0; i < count; i++)
        {
            var index = random.Next(labels.Length);
            yield return (labels[index], FashionMnist.TestImage(index));
        }
    }

    /// <summary>
    /// Synthetic extraction as Papernot's Jacobian-based augmentation shapes it: a few seed images,
    /// then rounds of copies stepped by ±lambda along a sign pattern (a stand-in for the substitute's
    /// gradient sign), each copy keeping its seed's class.
    /// </summary>
    public static IEnumerable<(int Label, float[] Image)> JacobianAugmentation(int seeds, int rounds, float lambda, int seed)
    {
        var random = new Random(seed);
        var (_, labels) = FashionMnist.TestSet;
        var current = Enumerable.Range(0, seeds).Select(_ => random.Next(labels.Length)).Select(i => (Label: (int)labels[i], Image: FashionMnist.TestImage(i))).ToList();
        foreach (var item in current)
        {
            yield return item;
        }

        for (var round = 0; round < rounds; round++)
        {
            var next = new List<(int, float[])>();
            foreach (var (label, image) in current)
            {
                var copy = new float[image.Length];
                for (var p = 0; p < image.Length; p++)
                {
                    var step = random.Next(2) == 0 ? -lambda : lambda;
                    copy[p] = Math.Clamp(image[p] + step, 0f, 1f);
                }

                next.Add((label, copy));
                yield return (label, copy);
            }

            current.AddRange(next);
        }
    }
}
