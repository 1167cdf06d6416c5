using System.Text.Json;
using ShieldCluster.Inference.Squeezing;
using ShieldCluster.Protection.InputFilters;
using ShieldCluster.Protection.Validation;
using ShieldCluster.Testing;

namespace ShieldCluster.Inference.Tests;

public class SqueezingTests(ModelRepositoryFixture fixture) : IClassFixture<ModelRepositoryFixture>
{
    private static readonly TensorSpec Image = new("input", "FP32", [1, 28, 28], 0f, 1f);

    [Fact]
    public void DemoModel_HasACalibratedThreshold_ThatKeepsHeldOutFalsePositivesAtMost5Percent()
    {
        var model = fixture.Repository.Find("fashion-mnist", null)!;
        Assert.NotNull(model.SqueezeThreshold);
        Assert.NotEmpty(model.Squeezers);
        var scores = SqueezingCalibration.Scores(model, FashionMnist.TestSet.Images, 10_000);
        var flagged = SqueezingCalibration.FlaggedShare(scores, model.SqueezeThreshold.Value);
        Assert.True(flagged <= 0.05, $"{flagged:P2} of the held-out test images flagged");
        Assert.True(flagged > 0.01, $"only {flagged:P2} flagged: the threshold is not calibrated for its stated rate");
    }

    [Fact]
    public void RunWithSqueezing_OriginalsMatchAPlainRun_AndScoresMatchTheDefinition()
    {
        var model = fixture.Repository.Find("fashion-mnist", null)!;
        var input = FashionMnist.TestSet.Images.AsMemory(0, 6 * 784);
        var plain = model.Run(input, 6)[0];
        var run = model.RunWithSqueezing(input, 6);
        Assert.Equal(plain.Length, run.Outputs[0].Length);
        for (var i = 0; i < plain.Length; i++)
        {
            Assert.Equal(plain[i], run.Outputs[0][i], 5);
        }

        var squeezed = new float[784];
        for (var i = 0; i < 6; i++)
        {
            model.Squeezers[0].Squeeze(input.Span.Slice(i * 784, 784), squeezed);
            var direct = model.Run(squeezed, 1)[0];
            var expected = FeatureSqueezingDetector.Score(plain.AsSpan(i * 10, 10), direct, 10);
            Assert.Equal(expected, run.Scores[i], 4);
        }
    }

    [Fact]
    public async Task SqueezedRequestsBatchedTogether_EachGetTheScoresAndRowsOfItsOwnRun()
    {
        // Concurrent squeezed requests ride the batcher together: their originals are joined into one
        // (pooled) array and squeezed into one (pooled) block per call, which later calls reuse.
        var model = fixture.Repository.Find("fashion-mnist", null)!;
        var images = FashionMnist.TestSet.Images;
        for (var round = 0; round < 5; round++)
        {
            var first = round * 16;
            var alone = Enumerable.Range(first, 16).Select(i => model.RunWithSqueezing(images.AsMemory(i * 784, 784), 1)).ToArray();
            var batched = await Task.WhenAll(Enumerable.Range(first, 16).Select(i => Task.Run(() => model.InferAsync(images.AsMemory(i * 784, 784), 1, squeeze: true))));
            for (var k = 0; k < 16; k++)
            {
                Assert.Equal(alone[k].Scores[0], batched[k].Scores![0], 4);
                Assert.Equal(alone[k].SqueezedScores.Length, batched[k].SqueezedScores!.Length);
                for (var c = 0; c < 10; c++)
                {
                    Assert.Equal(alone[k].Outputs[0][c], batched[k].Outputs[0][c], 5);
                }
            }
        }
    }

    [Fact]
    public void Record_WritesTheThreshold_AndTheModelLoadsWithIt()
    {
        var root = Path.Combine(Path.GetTempPath(), "shield-calibrate-" + Guid.NewGuid().ToString("N"));
        try
        {
            var source = Path.Combine(RepositoryPaths.Models, "fashion-mnist");
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(root, "fashion-mnist", Path.GetRelativePath(source, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            var config = Path.Combine(root, "fashion-mnist", "config.json");
            SqueezingCalibration.Record(config, "1", 0.5f, 0.02, "training images 0-99", 0.031);
            using var repository = ModelRepositoryFixture.Open(root);
            Assert.Equal(0.5f, repository.Find("fashion-mnist", "1")!.SqueezeThreshold);
            Assert.Contains("\"held_out_false_positive_rate\": 0.031", File.ReadAllText(config), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("bit-depth-3", "bit-depth-3")]
    [InlineData("median-2x2", "median-2x2")]
    public void CreateSqueezer_KnownNames(string name, string expected)
    {
        Assert.Equal(expected, SqueezingSettings.CreateSqueezer(name, Image).Name);
    }

    [Theory]
    [InlineData("blur")]
    [InlineData("bit-depth-x")]
    [InlineData("median-2x3")]
    public void CreateSqueezer_UnknownName_Throws(string name)
    {
        Assert.Throws<FormatException>(() => SqueezingSettings.CreateSqueezer(name, Image));
    }

    [Fact]
    public void Parse_ThresholdsByVersion_AndNoBlockMeansNoSqueezing()
    {
        using var document = JsonDocument.Parse("{\"squeezing\":{\"squeezers\":[\"bit-depth-4\"],\"false_positive_rate\":0.02,\"thresholds\":{\"3\":0.5}}}");
        var settings = SqueezingSettings.Parse(document.RootElement, Image)!;
        Assert.Equal(0.5f, settings.Thresholds["3"]);
        Assert.Equal(0.02, settings.FalsePositiveRate);
        Assert.Null(SqueezingSettings.Parse(null, Image));
    }
}
