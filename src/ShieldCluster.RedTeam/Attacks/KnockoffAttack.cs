using ShieldCluster.RedTeam.Evaluation;
using ShieldCluster.RedTeam.Substitute;
using ShieldCluster.RedTeam.Target;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>
/// Model extraction with natural images: query random training images in batches, keep the
/// victim's full probability vectors as soft labels, and train an MLP substitute on them.
/// </summary>
/// <remarks>
/// Orekondy, Schiele and Fritz, "Knockoff Nets: Stealing Functionality of Black-Box Models",
/// CVPR 2019, arXiv 1812.02766 (the "random" sampling strategy on in-distribution data); and
/// Correia-Silva, Berriel, Badue, de Souza and Oliveira-Santos, "Copycat CNN", IJCNN 2018,
/// arXiv 1806.05476. The substitute is judged on the 10,000 test images (accuracy against the
/// true labels) and on agreement with the victim over the first <see cref="AttackContext.AgreementImages"/>
/// test images, whose victim labels a separate fresh observer client queries once per target.
/// Goal: test accuracy at least <see cref="KnockoffOptions.MinAccuracy"/>. Degraded answers are
/// used as they come (one-hot labels); a block ends querying and the substitute trains on what it has.
/// </remarks>
public sealed class KnockoffAttack(KnockoffOptions options) : IAttack
{
    /// <inheritdoc />
    public string Name => "knockoff";

    /// <inheritdoc />
    public async Task<AttackResult> RunAsync(AttackContext context, CancellationToken cancellationToken)
    {
        var (substitute, collected, stopped) = await StealAsync(context, Name, cancellationToken);
        var accuracy = context.TestAccuracy(substitute);
        var agreement = await context.AgreementAsync(substitute, cancellationToken);
        context.State.Substitute = substitute;
        var goal = $"substitute test accuracy >= {options.MinAccuracy:0.00} from {options.Queries} queries";
        var details = new Dictionary<string, double>
        {
            ["labelled_images"] = collected,
            ["substitute_accuracy"] = accuracy,
            ["agreement"] = agreement,
        };
        var summary = $"accuracy {accuracy:P1}, agreement {agreement:P1} from {collected} images" + (stopped is null ? "" : $"; stopped: {stopped}");
        return context.Result(Name, accuracy >= options.MinAccuracy, goal, summary, details);
    }

    /// <summary>Queries, collects soft labels and trains; used by the transfer attack too when no substitute exists yet.</summary>
    internal async Task<(ISubstituteModel Substitute, int Collected, string? Stopped)> StealAsync(AttackContext context, string role, CancellationToken cancellationToken)
    {
        var client = await context.NewAttackerAsync(role, cancellationToken);
        var random = context.Random("knockoff");
        var train = context.Data.Train;
        var order = Enumerable.Range(0, train.Count).ToArray();
        random.Shuffle(order);
        var pixels = train.Pixels;
        var classes = client.Classes;
        var inputs = new List<float>(options.Queries * pixels);
        var targets = new List<float>(options.Queries * classes);
        string? stopped = null;
        for (var start = 0; start < options.Queries; start += options.BatchSize)
        {
            var n = Math.Min(options.BatchSize, options.Queries - start);
            var batch = train.Subset(new ArraySegment<int>(order, start, n));
            var response = await client.InferAsync(batch.Images, n, cancellationToken);
            if (response.Kind == ResponseKind.Unreachable)
            {
                throw new TargetUnreachableException($"the target stopped answering: {response.StatusCode} {response.Error}");
            }

            if (!response.Answered)
            {
                stopped = $"{response.Kind} ({response.StatusCode}) after {start} images";
                break;
            }

            inputs.AddRange(batch.Images);
            targets.AddRange(response.Probabilities);
            context.Progress?.Report(0.8 * (start + n) / options.Queries);
        }

        var substitute = new Mlp(pixels, options.Hidden, classes);
        substitute.Initialise(context.Random("knockoff-init"));
        var count = targets.Count / classes;
        SubstituteTrainer.Train(substitute, inputs.ToArray(), targets.ToArray(), count, options.Training, context.Random("knockoff-train"), cancellationToken);
        context.Progress?.Report(0.9);
        return (substitute, count, stopped);
    }
}
