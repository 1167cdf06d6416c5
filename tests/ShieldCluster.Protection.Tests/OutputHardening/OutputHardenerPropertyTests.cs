using System.Globalization;
using FsCheck;
using ShieldCluster.Protection.OutputHardening;

namespace ShieldCluster.Protection.Tests.OutputHardening;

public class OutputHardenerPropertyTests
{
    [FsCheck.Xunit.Property(MaxTest = 300)]
    public void Apply_AnyModeOnAnyProbabilityVector_KeepsLabelLengthAndValidValues(NonEmptyArray<NonNegativeInt> weights, int jitterSeed, int noiseSeed)
    {
        var original = Probabilities(weights.Get.Select(w => w.Get).ToArray(), jitterSeed);
        CheckEveryPolicy(original, noiseSeed);
    }

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public void Apply_AnyModeOnTwoScoresWithinOneRoundingUnit_KeepsLabel(byte decimals, NonNegativeInt position, byte gap, bool topFirst, int noiseSeed)
    {
        // Two leaders closer than one rounding unit, so rounding may merge them, plus the rest of the mass.
        var unit = Math.Pow(10, -(decimals % (OutputHardener.MaxDecimals + 1)));
        var low = 0.05 + ((position.Get % 1000) / 1000.0 * 0.4);
        var high = low + Math.Min(unit * (gap / 256.0), 1.0 - (2 * low));
        var rest = Math.Max(0.0, 1.0 - low - high);
        float[] original = topFirst
            ? [(float)high, (float)low, (float)rest]
            : [(float)low, (float)high, (float)rest];
        CheckEveryPolicy(original, noiseSeed);
    }

    [FsCheck.Xunit.Property(MaxTest = 200)]
    public void Round_AnyDecimals_GivesValuesOnTheRoundingGrid(NonEmptyArray<NonNegativeInt> weights, int jitterSeed, byte decimals)
    {
        var d = decimals % (OutputHardener.MaxDecimals + 1);
        var scores = Probabilities(weights.Get.Select(w => w.Get).ToArray(), jitterSeed);
        OutputHardener.Round(scores, d);
        var scale = Math.Pow(10, d);
        // A grid value k / 10^d is stored as the nearest float, off by at most half an ulp (below 1e-7).
        Assert.All(scores, v => Assert.InRange(Math.Abs((v * scale) - Math.Round(v * scale)), 0.0, 1e-7 * scale));
    }

    private static void CheckEveryPolicy(float[] original, int noiseSeed)
    {
        var expectedLabel = ReferenceArgMax(original);
        foreach (var policy in Policies(original.Length))
        {
            var scores = (float[])original.Clone();
            OutputHardener.Apply(scores, policy, new Random(noiseSeed));
            var context = string.Create(CultureInfo.InvariantCulture, $"{policy} on [{string.Join(", ", original.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]");
            Assert.True(original.Length == scores.Length, context);
            Assert.True(expectedLabel == ReferenceArgMax(scores), $"label moved under {context}");
            Assert.True(scores.All(v => float.IsFinite(v) && v is >= 0f and <= 1f), $"invalid value under {context}");
        }
    }

    private static IEnumerable<HardeningPolicy> Policies(int length)
    {
        yield return HardeningPolicy.None;
        yield return new HardeningPolicy(HardeningMode.LabelOnly);
        for (var d = 0; d <= OutputHardener.MaxDecimals; d++)
        {
            yield return new HardeningPolicy(HardeningMode.Round, Decimals: d);
        }

        foreach (var k in new[] { 1, 2, 3, 5, length - 1, length }.Where(k => k >= 1).Distinct())
        {
            yield return new HardeningPolicy(HardeningMode.TopK, K: k);
        }

        foreach (var scale in new[] { 0f, 0.001f, 0.05f, 0.3f, 3f })
        {
            yield return new HardeningPolicy(HardeningMode.Noise, NoiseScale: scale);
        }
    }

    // Small integer weights give many exact ties; the jitter adds near-ties a rounding unit or less apart.
    private static float[] Probabilities(int[] weights, int jitterSeed)
    {
        var random = new Random(jitterSeed);
        var values = weights
            .Select(w => Math.Max(0.0, w + (random.Next(3) == 0 ? (random.NextDouble() - 0.5) * 0.02 : 0.0)))
            .ToArray();
        var sum = values.Sum();
        return sum > 0
            ? values.Select(v => (float)(v / sum)).ToArray()
            : Enumerable.Repeat(1f / values.Length, values.Length).ToArray();
    }

    // Independent of TensorPrimitives: first index of the largest value.
    private static int ReferenceArgMax(float[] scores)
    {
        var best = 0;
        for (var i = 1; i < scores.Length; i++)
        {
            if (scores[i] > scores[best])
            {
                best = i;
            }
        }

        return best;
    }
}
