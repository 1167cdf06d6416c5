using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using ShieldCluster.Inference;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Inference.Runtime;
using ShieldCluster.Testing;

namespace ShieldCluster.Server.Tests;

/// <summary>Feature squeezing on the serving path, with the demo model's calibrated threshold.</summary>
public class SqueezingApiTests(SqueezingApiTests.SubstituteFactory substituting, ShieldServerFactory recording)
    : IClassFixture<SqueezingApiTests.SubstituteFactory>, IClassFixture<ShieldServerFactory>
{
    public sealed class SubstituteFactory : ShieldServerFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings =>
            new Dictionary<string, string?>(base.Settings) { ["Shield:Protection:FlaggedInputs"] = "Substitute" };
    }

    /// <summary>The first test images the demo model's squeezing flags, with the plain and squeezed scores.</summary>
    private static readonly Lazy<List<(int Index, float[] Plain, float[] Squeezed)>> Flagged = new(() =>
    {
        var options = Microsoft.Extensions.Options.Options.Create(new InferenceOptions { ModelRepository = RepositoryPaths.Models });
        using var repository = new ModelRepository(options, new ExecutionProviderSelector(options, NullLogger<ExecutionProviderSelector>.Instance), NullLogger<ModelRepository>.Instance);
        var model = repository.Find("fashion-mnist", null)!;
        var found = new List<(int, float[], float[])>();
        for (var start = 0; found.Count < 3; start += 64)
        {
            var run = model.RunWithSqueezing(FashionMnist.TestSet.Images.AsMemory(start * 784, 64 * 784), 64);
            for (var i = 0; i < 64 && found.Count < 3; i++)
            {
                if (run.Scores[i] > model.SqueezeThreshold!.Value)
                {
                    found.Add((start + i, run.Outputs[0].AsSpan(i * 10, 10).ToArray(), run.SqueezedScores.AsSpan(i * 10, 10).ToArray()));
                }
            }
        }

        return found;
    });

    private static async Task<float[]> ScoresAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return [.. body!["outputs"]![0]!["data"]!.AsArray().Select(v => (float)v!)];
    }

    [Fact]
    public async Task FlaggedInput_Recorded_IsAnsweredAsUsual_AndCountsAsEvidence()
    {
        var (index, plain, _) = Flagged.Value[0];
        var scores = await ScoresAsync(await InferenceRequests.PostAsync(recording.ClientWithKey(ShieldServerFactory.FuzzKey), InferenceRequests.Json(index, 1)));
        Assert.Equal(plain, scores, (a, b) => Math.Abs(a - b) < 1e-5);

        var admin = recording.ClientWithKey(ShieldServerFactory.SecurityAdminKey);
        JsonNode? squeezing = null;
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var report = await admin.GetFromJsonAsync<JsonObject>("/admin/clients/fuzz");
            squeezing = report!["detectors"]!.AsArray().Single(d => (string?)d!["name"] == "squeezing");
            if (((string?)squeezing!["evidence"])!.StartsWith("1 of the last 1", StringComparison.Ordinal))
            {
                break;
            }

            await Task.Delay(10);
        }

        Assert.StartsWith("1 of the last 1 squeezed inputs flagged", (string?)squeezing!["evidence"], StringComparison.Ordinal);
        Assert.True((double)squeezing["score"]! > 0);
    }

    [Fact]
    public async Task FlaggedInput_Substituted_IsAnsweredWithTheSqueezedScores_CleanInputsAsUsual()
    {
        var client = substituting.ClientWithKey(ShieldServerFactory.FuzzKey);
        foreach (var (index, plain, squeezed) in Flagged.Value)
        {
            var scores = await ScoresAsync(await InferenceRequests.PostAsync(client, InferenceRequests.Json(index, 1)));
            Assert.Equal(squeezed, scores, (a, b) => Math.Abs(a - b) < 1e-5);
            Assert.NotEqual(plain, scores, (a, b) => Math.Abs(a - b) < 1e-5);
        }

        // Image 0 is clean (not flagged): answered with the plain scores.
        Assert.DoesNotContain(Flagged.Value, f => f.Index == 0);
        var clean = await ScoresAsync(await InferenceRequests.PostAsync(client, InferenceRequests.Json(0, 1)));
        Assert.Equal(9, Array.IndexOf(clean, clean.Max()));
    }
}
