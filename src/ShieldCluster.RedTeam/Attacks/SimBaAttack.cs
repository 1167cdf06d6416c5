using ShieldCluster.RedTeam.Evaluation;
using ShieldCluster.RedTeam.Target;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>
/// SimBA, the simple black-box attack with the pixel (Cartesian) basis: walk the pixels in random
/// order, try a step of −ε then +ε along each, and keep a step whenever the true class's probability
/// drops, until the victim misclassifies.
/// </summary>
/// <remarks>
/// Guo, Gardner, You, Wilson and Weinberger, "Simple Black-box Adversarial Attacks", ICML 2019,
/// arXiv 1905.07121. Directions are orthonormal and never repeated, so after k accepted steps the
/// perturbation's L2 norm is at most ε√k. A step that clipping to [0, 1] would make a no-op is
/// skipped without a query. Goal: at least half the images misclassified within
/// <see cref="SimBaOptions.MaxL2"/> of the original and within the per-image query budget.
/// Score-based: degraded (one-hot) answers starve it of the gradient signal it needs.
/// </remarks>
public sealed class SimBaAttack(SimBaOptions options) : IAttack
{
    private static readonly float[] Signs = [-1f, 1f];

    /// <inheritdoc />
    public string Name => "simba";

    /// <inheritdoc />
    public async Task<AttackResult> RunAsync(AttackContext context, CancellationToken cancellationToken)
    {
        var client = await context.NewAttackerAsync(Name, cancellationToken);
        var random = context.Random(Name);
        var goal = $"misclassified within L2 <= {options.MaxL2} in {options.QueriesPerImage} queries, on at least half of {options.Images} images";
        var successes = 0;
        var distances = new List<double>();
        var queries = new List<double>();
        var (seeds, stopped) = await EvasionSeeds.PickOrStopAsync(client, context.Data.Train, options.Images, random, cancellationToken);

        for (var n = 0; n < seeds.Count && stopped is null; n++)
        {
            var (original, label, scores) = seeds[n];
            var oracle = new BudgetedOracle(client, options.QueriesPerImage);
            var x = (float[])original.Clone();
            try
            {
                var done = await AttackImageAsync(oracle, x, label, scores, random, cancellationToken);
                if (done && VectorMath.L2(x, original) <= options.MaxL2)
                {
                    successes++;
                    distances.Add(VectorMath.L2(x, original));
                    queries.Add(oracle.Used);
                }
            }
            catch (AttackStoppedException e)
            {
                if (client.Blocked || e.Message.StartsWith("rate", StringComparison.Ordinal))
                {
                    stopped = e.Message;
                }
            }

            context.Progress?.Report((n + 1.0) / options.Images);
        }

        var reached = successes * 2 >= options.Images && successes > 0;
        var details = new Dictionary<string, double>
        {
            ["images"] = options.Images,
            ["successes"] = successes,
            ["median_l2"] = VectorMath.Median(distances),
            ["median_queries"] = VectorMath.Median(queries),
        };
        var summary = $"{successes}/{options.Images} misclassified" + (distances.Count > 0 ? $", median L2 {VectorMath.Median(distances):0.00} in {VectorMath.Median(queries):0} queries" : "")
            + (stopped is null ? "" : $"; stopped: {stopped}");
        return context.Result(Name, reached, goal, summary, details);
    }

    /// <returns>True once the victim misclassifies <paramref name="x"/>.</returns>
    private async Task<bool> AttackImageAsync(BudgetedOracle oracle, float[] x, int label, float[] scores, Random random, CancellationToken cancellationToken)
    {
        var order = Enumerable.Range(0, x.Length).ToArray();
        random.Shuffle(order);
        var trueProbability = scores[label];
        if (VectorMath.ArgMax(scores) != label)
        {
            return true;
        }

        foreach (var pixel in order)
        {
            var before = x[pixel];
            foreach (var sign in Signs)
            {
                var after = Math.Clamp(before + (sign * options.Epsilon), 0f, 1f);
                if (after == before)
                {
                    continue;
                }

                x[pixel] = after;
                var p = await oracle.ScoresAsync(x, cancellationToken);
                if (p[label] < trueProbability)
                {
                    trueProbability = p[label];
                    if (VectorMath.ArgMax(p) != label)
                    {
                        return true;
                    }

                    break;
                }

                x[pixel] = before;
            }
        }

        return false;
    }
}
