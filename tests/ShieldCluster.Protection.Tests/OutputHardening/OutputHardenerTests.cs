using ShieldCluster.Protection.OutputHardening;

namespace ShieldCluster.Protection.Tests.OutputHardening;

public class OutputHardenerTests
{
    private static readonly HardeningMode[] AllModes = Enum.GetValues<HardeningMode>();

    public static TheoryData<HardeningMode> Modes()
    {
        var data = new TheoryData<HardeningMode>();
        foreach (var mode in AllModes)
        {
            data.Add(mode);
        }

        return data;
    }

    [Fact]
    public void Apply_None_LeavesScoresUntouched()
    {
        float[] scores = [0.123f, 0.456f, 0.421f];
        OutputHardener.Apply(scores, HardeningPolicy.None, random: null);
        Assert.Equal([0.123f, 0.456f, 0.421f], scores);
    }

    [Fact]
    public void Apply_Round_DelegatesWithPolicyDecimals()
    {
        float[] scores = [0.1234f, 0.5678f, 0.3088f];
        OutputHardener.Apply(scores, new HardeningPolicy(HardeningMode.Round, Decimals: 1), random: null);
        Assert.Equal([0.1f, 0.6f, 0.3f], scores);
    }

    [Fact]
    public void Round_TwoDecimals_RoundsEachScore()
    {
        float[] scores = [0.123f, 0.456f, 0.421f];
        OutputHardener.Round(scores, 2);
        Assert.Equal([0.12f, 0.46f, 0.42f], scores);
    }

    [Fact]
    public void Round_ExactMidpoint_GoesAwayFromZero()
    {
        // 0.125 and 0.875 are exact in binary, so these are true midpoints.
        float[] scores = [0.125f, 0.875f];
        OutputHardener.Round(scores, 2);
        Assert.Equal([0.13f, 0.88f], scores);
    }

    [Fact]
    public void Round_ScoresOnDifferentSidesOfMidpoint_KeepOrderWithoutRepair()
    {
        float[] scores = [0.3449f, 0.3451f, 0.31f];
        OutputHardener.Round(scores, 2);
        Assert.Equal([0.34f, 0.35f, 0.31f], scores);
    }

    [Fact]
    public void Round_TieWonByLowerIndex_BumpsOriginalTopByOneUnit()
    {
        // Both leaders round to 0.35; index 0 would win the tie, so index 1 moves up to 0.36.
        float[] scores = [0.3451f, 0.3452f, 0.3097f];
        OutputHardener.Round(scores, 2);
        Assert.Equal([0.35f, 0.36f, 0.31f], scores);
        Assert.Equal(1, OutputHardener.ArgMax(scores));
    }

    [Fact]
    public void Round_TieWonByHigherIndex_NeedsNoRepair()
    {
        float[] scores = [0.3452f, 0.3451f, 0.3097f];
        OutputHardener.Round(scores, 2);
        Assert.Equal([0.35f, 0.35f, 0.31f], scores);
        Assert.Equal(0, OutputHardener.ArgMax(scores));
    }

    [Fact]
    public void Round_ZeroDecimalsAllBelowHalf_GivesOneAtOriginalTop()
    {
        float[] scores = [0.2f, 0.3f, 0.25f, 0.25f];
        OutputHardener.Round(scores, 0);
        Assert.Equal([0f, 1f, 0f, 0f], scores);
    }

    [Fact]
    public void Round_TieAtOne_LowersOtherScoresByOneUnit()
    {
        // Not a distribution (sigmoid-style scores), but both round to 1 and index 0 would win.
        float[] scores = [0.996f, 0.998f, 0.5f];
        OutputHardener.Round(scores, 2);
        Assert.Equal([0.99f, 1f, 0.5f], scores);
    }

    [Fact]
    public void Round_SixDecimals_KeepsSixDecimals()
    {
        float[] scores = [0.1234564f, 0.8765436f];
        OutputHardener.Round(scores, 6);
        Assert.Equal(0.123456f, scores[0], 1e-7f);
        Assert.Equal(0.876544f, scores[1], 1e-7f);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(7)]
    public void Round_DecimalsOutOfRange_Throws(int decimals)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => OutputHardener.Round(new float[] { 0.5f, 0.5f }, decimals));
    }

    [Fact]
    public void TopK_Two_KeepsTwoLargestAndZerosTheRest()
    {
        float[] scores = [0.1f, 0.5f, 0.15f, 0.25f];
        OutputHardener.TopK(scores, 2);
        Assert.Equal([0f, 0.5f, 0f, 0.25f], scores);
    }

    [Fact]
    public void TopK_TieAtCutoff_KeepsLowestIndices()
    {
        float[] scores = [0.2f, 0.2f, 0.2f, 0.4f];
        OutputHardener.TopK(scores, 2);
        Assert.Equal([0.2f, 0f, 0f, 0.4f], scores);
    }

    [Fact]
    public void TopK_AllEqual_KeepsFirstK()
    {
        float[] scores = [0.25f, 0.25f, 0.25f, 0.25f];
        OutputHardener.TopK(scores, 3);
        Assert.Equal([0.25f, 0.25f, 0.25f, 0f], scores);
    }

    [Fact]
    public void TopK_KAtLeastLength_LeavesScoresUnchanged()
    {
        float[] scores = [0.1f, 0.5f, 0.4f];
        OutputHardener.TopK(scores, 3);
        Assert.Equal([0.1f, 0.5f, 0.4f], scores);
        OutputHardener.TopK(scores, 10);
        Assert.Equal([0.1f, 0.5f, 0.4f], scores);
    }

    [Fact]
    public void TopK_ThousandClasses_KeepsFiveLargest()
    {
        var scores = Enumerable.Range(0, 1000).Select(i => ((i * 37) % 1000) / 499_500f).ToArray();
        var expectedKept = Enumerable.Range(0, 1000).OrderByDescending(i => scores[i]).Take(5).ToHashSet();
        var before = (float[])scores.Clone();
        OutputHardener.TopK(scores, 5);
        for (var i = 0; i < scores.Length; i++)
        {
            Assert.Equal(expectedKept.Contains(i) ? before[i] : 0f, scores[i]);
        }
    }

    [Fact]
    public void TopK_ZeroK_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => OutputHardener.TopK(new float[] { 1f }, 0));
    }

    [Fact]
    public void LabelOnly_GivesOneHotOfArgmax()
    {
        float[] scores = [0.1f, 0.6f, 0.3f];
        OutputHardener.Apply(scores, new HardeningPolicy(HardeningMode.LabelOnly), random: null);
        Assert.Equal([0f, 1f, 0f], scores);
    }

    [Fact]
    public void LabelOnly_TiedMaxima_PicksLowestIndex()
    {
        float[] scores = [0.2f, 0.4f, 0.4f];
        OutputHardener.LabelOnly(scores);
        Assert.Equal([0f, 1f, 0f], scores);
    }

    [Fact]
    public void LabelOnly_NegativeZeroBeforePositiveZero_TreatsThemAsEqual()
    {
        // IndexOfMax alone would rank +0 at index 1 above -0 at index 0.
        float[] scores = [-0f, 0f];
        OutputHardener.LabelOnly(scores);
        Assert.Equal([1f, 0f], scores);
    }

    [Fact]
    public void Noise_SameSeed_GivesSameOutputSummingToOne()
    {
        float[] original = [0.05f, 0.6f, 0.1f, 0.25f];
        var first = (float[])original.Clone();
        var second = (float[])original.Clone();
        OutputHardener.Apply(first, new HardeningPolicy(HardeningMode.Noise, NoiseScale: 0.05f), new Random(42));
        OutputHardener.Apply(second, new HardeningPolicy(HardeningMode.Noise, NoiseScale: 0.05f), new Random(42));
        Assert.Equal(first, second);
        Assert.NotEqual(original, first);
        Assert.Equal(1f, first.Sum(), 1e-5f);
        Assert.Equal(1, OutputHardener.ArgMax(first));
        Assert.All(first, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void Noise_DifferentSeeds_GiveDifferentOutputs()
    {
        float[] a = [0.3f, 0.7f];
        float[] b = [0.3f, 0.7f];
        OutputHardener.Noise(a, 0.05f, new Random(1));
        OutputHardener.Noise(b, 0.05f, new Random(2));
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Noise_ZeroScale_OnlyRenormalises()
    {
        float[] scores = [0.2f, 0.3f, 0.5f];
        OutputHardener.Noise(scores, 0f, new Random(7));
        Assert.Equal(0.2f, scores[0], 1e-6f);
        Assert.Equal(0.3f, scores[1], 1e-6f);
        Assert.Equal(0.5f, scores[2], 1e-6f);
    }

    [Fact]
    public void Noise_EveryDrawFlipsLabel_SwapsTopBackIntoPlace()
    {
        // Every draw gives noise -2 to index 0 and +2 to index 1; at scale 0.1 that turns [0.6, 0.4] into [0.4, 0.6].
        var random = new ScriptedRandom(1 - Math.Exp(-2), 0.5, 1 - Math.Exp(-2), 0.0);
        float[] scores = [0.6f, 0.4f];
        OutputHardener.Noise(scores, 0.1f, random);
        Assert.Equal(0, OutputHardener.ArgMax(scores));
        Assert.Equal(0.6f, scores[0], 1e-5f);
        Assert.Equal(0.4f, scores[1], 1e-5f);
        Assert.Equal(OutputHardener.MaxNoiseAttempts * 4, random.Calls);
    }

    [Fact]
    public void Noise_EveryDrawClampsToZero_FallsBackToOneHot()
    {
        // Noise -2 at scale 1 pushes every score below 0, so no draw can be normalised.
        var random = new ScriptedRandom(1 - Math.Exp(-2), 0.5);
        float[] scores = [0.4f, 0.6f];
        OutputHardener.Noise(scores, 1f, random);
        Assert.Equal([0f, 1f], scores);
    }

    [Fact]
    public void Noise_LargeScale_KeepsLabelForManySeeds()
    {
        for (var seed = 0; seed < 200; seed++)
        {
            float[] scores = [0.26f, 0.24f, 0.25f, 0.25f];
            OutputHardener.Noise(scores, 2f, new Random(seed));
            Assert.Equal(0, OutputHardener.ArgMax(scores));
            Assert.All(scores, v => Assert.True(float.IsFinite(v) && v is >= 0f and <= 1f));
        }
    }

    [Fact]
    public void Noise_ThousandClasses_KeepsLabelAndSumsToOne()
    {
        var scores = Enumerable.Repeat(0.0009f, 1000).ToArray();
        scores[500] = 1f - (999 * 0.0009f);
        OutputHardener.Noise(scores, 0.01f, new Random(3));
        Assert.Equal(500, OutputHardener.ArgMax(scores));
        Assert.Equal(1f, scores.Sum(), 1e-4f);
    }

    [Fact]
    public void Apply_NoiseWithoutRandom_UsesSharedRandom()
    {
        float[] scores = [0.1f, 0.9f];
        OutputHardener.Apply(scores, new HardeningPolicy(HardeningMode.Noise), random: null);
        Assert.Equal(1, OutputHardener.ArgMax(scores));
        Assert.Equal(1f, scores.Sum(), 1e-5f);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(-1f)]
    [InlineData(float.PositiveInfinity)]
    public void Noise_InvalidScale_Throws(float scale)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => OutputHardener.Noise(new float[] { 0.5f, 0.5f }, scale, new Random(1)));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(-0.01f)]
    [InlineData(1.01f)]
    public void Apply_ScoreThatIsNotAProbability_ThrowsForEveryCheckingMode(float bad)
    {
        foreach (var mode in AllModes.Where(m => m != HardeningMode.None))
        {
            var scores = new[] { 0.2f, bad, 0.3f };
            var error = Assert.Throws<ArgumentException>(() => OutputHardener.Apply(scores, new HardeningPolicy(mode), new Random(1)));
            Assert.Contains("at index 1", error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Apply_EmptyScores_DoesNothing(HardeningMode mode)
    {
        OutputHardener.Apply(Span<float>.Empty, new HardeningPolicy(mode), new Random(1));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Apply_SingleClass_StaysValidWithLabelZero(HardeningMode mode)
    {
        float[] scores = [0.7f];
        OutputHardener.Apply(scores, new HardeningPolicy(mode, Decimals: 0), new Random(1));
        Assert.Equal(0, OutputHardener.ArgMax(scores));
        Assert.InRange(scores[0], 0f, 1f);
    }

    [Fact]
    public void Apply_UnknownMode_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => OutputHardener.Apply(new float[] { 1f }, new HardeningPolicy((HardeningMode)99), null));
    }

    [Fact]
    public void ArgMax_Ties_ResolveToLowestIndexAndEmptyIsMinusOne()
    {
        Assert.Equal(1, OutputHardener.ArgMax([0.1f, 0.45f, 0.45f]));
        Assert.Equal(-1, OutputHardener.ArgMax([]));
    }

    private sealed class ScriptedRandom(params double[] values) : Random
    {
        public int Calls { get; private set; }

        public override double NextDouble() => values[Calls++ % values.Length];
    }
}
