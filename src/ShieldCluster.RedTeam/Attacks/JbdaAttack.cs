using System.Numerics.Tensors;
using ShieldCluster.RedTeam.Evaluation;
using ShieldCluster.RedTeam.Substitute;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>
/// Papernot et al.'s substitute training with Jacobian-based dataset augmentation: label a small
/// seed set with the victim, train a substitute, then add x + λ·sign(∇ₓ F(x)[ỹ]) for every x in the
/// set (ỹ the victim's label), label the new points with the victim, and repeat.
/// </summary>
/// <remarks>
/// Papernot, McDaniel, Goodfellow, Jha, Celik and Swami, "Practical Black-Box Attacks against
/// Machine Learning", AsiaCCS 2017, arXiv 1602.02697. The substitute is softmax regression
/// (the paper shows it suffices for transfer); F is its softmax output; λ = 0.1 flips sign every
/// τ = 3 rounds. Its synthetic, gradient-stepped queries are what a PRADA-style detector looks for.
/// Goal: substitute test accuracy at least <see cref="JbdaOptions.MinAccuracy"/>; agreement with the
/// victim is reported beside it.
/// </remarks>
public sealed class JbdaAttack(JbdaOptions options) : IAttack
{
    /// <inheritdoc />
    public string Name => "jbda";

    /// <inheritdoc />
    public async Task<AttackResult> RunAsync(AttackContext context, CancellationToken cancellationToken)
    {
        var client = await context.NewAttackerAsync(Name, cancellationToken);
        var random = context.Random(Name);
        var train = context.Data.Train;
        var pixels = train.Pixels;
        var classes = client.Classes;
        var oracle = new BudgetedOracle(client, int.MaxValue);

        var seeds = Enumerable.Range(0, train.Count).OrderBy(_ => random.Next()).Take(options.SeedImages).ToArray();
        var set = new List<float>(train.Subset(seeds).Images);
        var labels = new List<int>();
        var substitute = new SoftmaxRegression(pixels, classes);
        substitute.Initialise(context.Random("jbda-init"));
        string? stopped = null;
        var rounds = 0;
        try
        {
            labels.AddRange(await oracle.LabelsAsync(set.ToArray(), seeds.Length, cancellationToken));
            for (var round = 0; ; round++)
            {
                Train(substitute, set, labels, classes, context.Random($"jbda-train-{round}"), cancellationToken);
                rounds = round + 1;
                context.Progress?.Report((round + 1.0) / (options.Rounds + 1));
                if (round == options.Rounds)
                {
                    break;
                }

                var lambda = (round / options.SignPeriod) % 2 == 0 ? options.Lambda : -options.Lambda;
                var count = labels.Count;
                var fresh = new float[count * pixels];
                var gradient = new float[pixels];
                for (var i = 0; i < count; i++)
                {
                    var x = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(set).Slice(i * pixels, pixels);
                    SubstituteMath.ProbabilityInputGradient(substitute, x, labels[i], gradient);
                    var y = fresh.AsSpan(i * pixels, pixels);
                    for (var k = 0; k < pixels; k++)
                    {
                        y[k] = Math.Clamp(x[k] + (lambda * MathF.Sign(gradient[k])), 0f, 1f);
                    }
                }

                var freshLabels = await oracle.LabelsAsync(fresh, count, cancellationToken);
                set.AddRange(fresh);
                labels.AddRange(freshLabels);
            }
        }
        catch (AttackStoppedException e)
        {
            stopped = e.Message;

            // Train on whatever was labelled.
            set.RemoveRange(labels.Count * pixels, set.Count - (labels.Count * pixels));
            if (labels.Count > 0)
            {
                Train(substitute, set, labels, classes, context.Random("jbda-train-final"), cancellationToken);
            }
        }

        var accuracy = context.TestAccuracy(substitute);
        var agreement = await context.AgreementAsync(substitute, cancellationToken);
        var goal = $"substitute test accuracy >= {options.MinAccuracy:0.00} after {options.Rounds} augmentation rounds from {options.SeedImages} seeds";
        var details = new Dictionary<string, double>
        {
            ["labelled_images"] = labels.Count,
            ["rounds"] = rounds,
            ["substitute_accuracy"] = accuracy,
            ["agreement"] = agreement,
        };
        var summary = $"accuracy {accuracy:P1}, agreement {agreement:P1} from {labels.Count} labels" + (stopped is null ? "" : $"; stopped: {stopped}");
        return context.Result(Name, accuracy >= options.MinAccuracy, goal, summary, details);
    }

    private void Train(SoftmaxRegression substitute, List<float> set, List<int> labels, int classes, Random random, CancellationToken cancellationToken)
    {
        var targets = new float[labels.Count * classes];
        for (var i = 0; i < labels.Count; i++)
        {
            targets[(i * classes) + labels[i]] = 1;
        }

        // Each round retrains from scratch, as in the paper.
        TensorPrimitives.Multiply(substitute.Parameters, 0f, substitute.Parameters);
        SubstituteTrainer.Train(substitute, set.ToArray(), targets, labels.Count, options.Training, random, cancellationToken);
    }
}
