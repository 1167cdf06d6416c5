using ShieldCluster.Protection.Validation;

namespace ShieldCluster.Protection.Tests.Validation;

public class TensorValidatorTests
{
    private static readonly TensorSpec Image = new("input", "FP32", [1, 28, 28], 0f, 1f);

    private static float[] Images(int n, float value = 0.5f) => Enumerable.Repeat(value, n * 784).ToArray();

    [Fact]
    public void Validate_CorrectBatch_ReturnsNullAndBatchSize()
    {
        Assert.Null(TensorValidator.Validate(Image, 64, "FP32", [3, 1, 28, 28], Images(3), out var batch));
        Assert.Equal(3, batch);
    }

    [Fact]
    public void Validate_WrongDatatype_NamesBoth()
    {
        var error = TensorValidator.Validate(Image, 64, "FP64", [1, 1, 28, 28], Images(1), out _);
        Assert.Equal("input 'input' has datatype FP64; the model expects FP32", error);
    }

    [Theory]
    [InlineData(new long[] { 1, 784 })]
    [InlineData(new long[] { 1, 28, 28 })]
    [InlineData(new long[] { 1, 1, 28, 27 })]
    [InlineData(new long[] { 1, 3, 28, 28 })]
    public void Validate_WrongShape_ShowsExpectedShape(long[] shape)
    {
        var error = TensorValidator.Validate(Image, 64, "FP32", shape, Images(1), out _);
        Assert.NotNull(error);
        Assert.Contains("the model expects [-1,1,28,28]", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BatchAboveMax_NamesBothNumbers()
    {
        var error = TensorValidator.Validate(Image, 64, "FP32", [65, 1, 28, 28], Images(65), out _);
        Assert.Equal("batch size 65 exceeds the model's max_batch_size 64", error);
    }

    [Fact]
    public void Validate_EmptyBatch_IsRefused()
    {
        var error = TensorValidator.Validate(Image, 64, "FP32", [0, 1, 28, 28], ReadOnlySpan<float>.Empty, out _);
        Assert.Contains("at least 1", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TooFewValues_SaysHowManyAreNeeded()
    {
        var error = TensorValidator.Validate(Image, 64, "FP32", [2, 1, 28, 28], Images(1), out _);
        Assert.Equal("input 'input' has 784 values; shape [2,1,28,28] needs 1568", error);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Validate_NonFiniteValue_NamesItsIndex(float bad)
    {
        var data = Images(1);
        data[300] = bad;
        var error = TensorValidator.Validate(Image, 64, "FP32", [1, 1, 28, 28], data, out _);
        Assert.Equal("input 'input' contains NaN or infinity at index 300", error);
    }

    [Theory]
    [InlineData(-0.001f)]
    [InlineData(1.001f)]
    public void Validate_ValueOutsideRange_IsRefused(float bad)
    {
        var data = Images(1);
        data[5] = bad;
        var error = TensorValidator.Validate(Image, 64, "FP32", [1, 1, 28, 28], data, out _);
        Assert.NotNull(error);
        Assert.Contains("at index 5 is outside the model's range [0, 1]", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RangeEndpoints_AreAccepted()
    {
        var data = Images(1);
        data[0] = 0f;
        data[1] = 1f;
        Assert.Null(TensorValidator.Validate(Image, 64, "FP32", [1, 1, 28, 28], data, out _));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(17)]
    [InlineData(3 * 224 * 224)]
    public void CheckValues_ABadValueAnywhere_IsNamedAtItsIndex(int length)
    {
        // The one-pass check runs over whole vectors and a scalar tail: a bad value must be found
        // at the first and last index, inside the vectors and in the tail, whatever the length.
        var spec = new TensorSpec("input", "FP32", [length], 0f, 1f);
        var unbounded = new TensorSpec("input", "FP32", [length]);
        var data = Enumerable.Range(0, length).Select(i => (i % 11) / 10f).ToArray();
        Assert.Null(TensorValidator.CheckValues(spec, data));
        foreach (var at in new[] { 0, length / 2, length - 1 }.Distinct())
        {
            var saved = data[at];
            foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                data[at] = bad;
                Assert.Equal($"input 'input' contains NaN or infinity at index {at}", TensorValidator.CheckValues(spec, data));
                Assert.Equal($"input 'input' contains NaN or infinity at index {at}", TensorValidator.CheckValues(unbounded, data));
            }

            data[at] = 1.5f;
            Assert.Equal($"input 'input' value 1.5 at index {at} is outside the model's range [0, 1]", TensorValidator.CheckValues(spec, data));
            data[at] = -float.MaxValue;
            Assert.Contains($"at index {at} is outside the model's range", TensorValidator.CheckValues(spec, data), StringComparison.Ordinal);
            Assert.Null(TensorValidator.CheckValues(unbounded, data));
            data[at] = saved;
        }
    }

    [Fact]
    public void CheckValues_OneSidedRange_ChecksOnlyThatSide()
    {
        var data = new float[20];
        data[19] = 1e30f;
        Assert.Null(TensorValidator.CheckValues(new TensorSpec("x", "FP32", [20], Min: 0f), data));
        Assert.Contains("value 1E+30 at index 19", TensorValidator.CheckValues(new TensorSpec("x", "FP32", [20], Max: 1f), data), StringComparison.Ordinal);
        data[19] = -1f;
        Assert.Contains("value -1 at index 19", TensorValidator.CheckValues(new TensorSpec("x", "FP32", [20], Min: 0f), data), StringComparison.Ordinal);
        Assert.Null(TensorValidator.CheckValues(new TensorSpec("x", "FP32", [20], Max: 1f), data));
    }

    [Fact]
    public void Validate_UnbatchedModel_TakesShapeWithoutBatchDimension()
    {
        var vector = new TensorSpec("x", "FP32", [4]);
        Assert.Null(TensorValidator.Validate(vector, 0, "FP32", [4], new float[] { 1, 2, 3, 4 }, out var batch));
        Assert.Equal(1, batch);
        Assert.NotNull(TensorValidator.Validate(vector, 0, "FP32", [1, 4], new float[] { 1, 2, 3, 4 }, out _));
    }
}
