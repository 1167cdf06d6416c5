using ShieldCluster.Protection.Validation;

namespace ShieldCluster.Protection.Tests.Validation;

/// <summary>
/// FP16 values checked as they came: for every FP16 value and range, the same verdict and the same
/// message as checking its FP32 widening.
/// </summary>
public class TensorValidatorHalfTests
{
    public static TheoryData<float?, float?> Ranges => new()
    {
        { null, null },
        { 0f, 1f },
        { -1f, 1f },
        { 0.1f, 0.9f },
        { -0.5f, 0f },
        { 0f, 0f },
        { -0f, -0f },
        { 1e-6f, 2e-5f },
        { -70_000f, 70_000f },
        { 65_504f, 65_504f },
        { 0.3f, 0.30001f },
        { 2f, 1f },
        { float.MinValue, float.MaxValue },
        { null, 0.25f },
        { -3f, null },
    };

    private static IEnumerable<Half> EveryHalf() => Enumerable.Range(0, 1 << 16).Select(i => BitConverter.UInt16BitsToHalf((ushort)i));

    [Theory]
    [MemberData(nameof(Ranges))]
    public void EveryFp16Value_SameVerdictAndMessageAsItsWidening(float? min, float? max)
    {
        var spec = new TensorSpec("x", "FP16", [1], min, max);
        foreach (var half in EveryHalf())
        {
            var expected = TensorValidator.CheckValues(spec, new[] { (float)half });
            var actual = TensorValidator.CheckValues(spec, new[] { half });
            Assert.True(expected == actual, $"{BitConverter.HalfToUInt16Bits(half):X4} in [{min}, {max}]: expected '{expected}', got '{actual}'");
        }
    }

    [Theory]
    [MemberData(nameof(Ranges))]
    public void InsideValuesInBulk_PassTheVectorisedCheck_AndOneOutsideFailsIt(float? min, float? max)
    {
        // Vector-length runs of every FP16 value inside the range pass; each value outside, placed in
        // such a run, is named as the FP32 check names it.
        var spec = new TensorSpec("x", "FP16", [1], min, max);
        var inside = EveryHalf().Where(h => TensorValidator.CheckValues(spec, new[] { (float)h }) is null).ToArray();
        var outside = EveryHalf().Where(h => TensorValidator.CheckValues(spec, new[] { (float)h }) is not null).ToArray();
        Assert.Null(TensorValidator.CheckValues(spec, inside));
        var filler = inside.Length > 0 ? inside[inside.Length / 2] : (Half)0f;
        var run = Enumerable.Repeat(filler, 64).ToArray();
        foreach (var half in outside.Where((_, i) => i % 7 == 0))
        {
            run[37] = half;
            Assert.Equal(TensorValidator.CheckValues(spec, run.Select(h => (float)h).ToArray()), TensorValidator.CheckValues(spec, run));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(1_000)]
    [InlineData(150_527)]
    public void OneValueOutside_AnywhereInALargeTensor_IsNamedByItsIndex(int index)
    {
        var spec = new TensorSpec("input", "FP16", [3, 224, 224], 0f, 1f);
        var halves = Enumerable.Repeat((Half)0.5f, 3 * 224 * 224).ToArray();
        Assert.Null(TensorValidator.Validate(spec, 32, "FP16", [1, 3, 224, 224], halves, out var batch));
        Assert.Equal(1, batch);

        halves[index] = (Half)1.5f;
        var error = TensorValidator.Validate(spec, 32, "FP16", [1, 3, 224, 224], halves, out batch);
        Assert.Equal($"input 'input' value 1.5 at index {index} is outside the model's range [0, 1]", error);
        Assert.Equal(0, batch);

        halves[index] = Half.NaN;
        Assert.Equal($"input 'input' contains NaN or infinity at index {index}", TensorValidator.CheckValues(spec, halves));
    }

    [Fact]
    public void ShapeAndCount_AreCheckedAsForFp32()
    {
        var spec = new TensorSpec("input", "FP16", [3, 4], 0f, 1f);
        Assert.Equal(
            TensorValidator.Validate(spec, 8, "FP16", [2, 3, 4], new float[23], out _),
            TensorValidator.Validate(spec, 8, "FP16", [2, 3, 4], new Half[23], out _));
        Assert.Equal(
            TensorValidator.Validate(spec, 8, "FP32", [2, 3, 4], new float[24], out _),
            TensorValidator.Validate(spec, 8, "FP32", [2, 3, 4], new Half[24], out _));
        Assert.Null(TensorValidator.Validate(spec, 8, "FP16", [2, 3, 4], new Half[24], out var batch));
        Assert.Equal(2, batch);
    }
}
