using ShieldCluster.RedTeam.Evaluation;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>
/// The Square Attack (Linf): random search over perturbations at the corners of the ε-ball,
/// initialised with vertical stripes of ±ε, each step redrawing one square window to ±ε and
/// keeping it when the margin loss falls.
/// </summary>
/// <remarks>
/// Andriushchenko, Croce, Flammarion and Hein, "Square Attack: a query-efficient black-box
/// adversarial attack via random search", ECCV 2020, arXiv 1912.00049. The loss is the margin
/// log p_y − max_{k≠y} log p_k on the returned probabilities; the square's side is
/// round(√(p·784)) with p halved on the paper's schedule (iterations 10, 50, 200, 500, 1000, 2000,
/// 4000, 6000, 8000 of 10,000, rescaled to the budget). Goal: at least half the images
/// misclassified within Linf ε (0.1 by default on [0, 1] pixels) in the per-image budget.
/// </remarks>
public sealed class SquareAttack(SquareOptions options) : IAttack
{
    private static readonly int[] Schedule = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];

    /// <inheritdoc />
    public string Name => "square";

    /// <inheritdoc />
    public async Task<AttackResult> RunAsync(AttackContext context, CancellationToken cancellationToken)
    {
        var client = await context.NewAttackerAsync(Name, cancellationToken);
        var random = context.Random(Name);
        var goal = $"misclassified within Linf <= {options.Epsilon} in {options.QueriesPerImage} queries, on at least half of {options.Images} images";
        var successes = 0;
        var queries = new List<double>();
        var (seeds, stopped) = await EvasionSeeds.PickOrStopAsync(client, context.Data.Train, options.Images, random, cancellationToken);

        for (var n = 0; n < seeds.Count && stopped is null; n++)
        {
            var oracle = new BudgetedOracle(client, options.QueriesPerImage);
            try
            {
                if (await AttackImageAsync(oracle, seeds[n].Image, seeds[n].Label, random, cancellationToken))
                {
                    successes++;
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

        var reached = successes > 0 && successes * 2 >= options.Images;
        var details = new Dictionary<string, double>
        {
            ["images"] = options.Images,
            ["successes"] = successes,
            ["epsilon"] = options.Epsilon,
            ["median_queries"] = VectorMath.Median(queries),
        };
        var summary = $"{successes}/{options.Images} misclassified at Linf {options.Epsilon}"
            + (queries.Count > 0 ? $", median {VectorMath.Median(queries):0} queries" : "")
            + (stopped is null ? "" : $"; stopped: {stopped}");
        return context.Result(Name, reached, goal, summary, details);
    }

    internal static float Margin(ReadOnlySpan<float> p, int label)
    {
        var other = float.NegativeInfinity;
        for (var k = 0; k < p.Length; k++)
        {
            if (k != label)
            {
                other = MathF.Max(other, p[k]);
            }
        }

        return MathF.Log(MathF.Max(p[label], 1e-30f)) - MathF.Log(MathF.Max(other, 1e-30f));
    }

    private async Task<bool> AttackImageAsync(BudgetedOracle oracle, float[] x, int label, Random random, CancellationToken cancellationToken)
    {
        var side = (int)Math.Round(Math.Sqrt(x.Length));
        var eps = options.Epsilon;

        // Vertical stripes: one random sign per column.
        var delta = new float[x.Length];
        for (var col = 0; col < side; col++)
        {
            var s = random.Next(2) == 0 ? -eps : eps;
            for (var row = 0; row < side; row++)
            {
                delta[(row * side) + col] = s;
            }
        }

        var candidate = Apply(x, delta);
        var p = await oracle.ScoresAsync(candidate, cancellationToken);
        var loss = Margin(p, label);
        for (var iteration = 1; loss >= 0; iteration++)
        {
            var fraction = Fraction(iteration, oracle.Budget);
            var s = Math.Clamp((int)Math.Round(Math.Sqrt(fraction * x.Length)), 1, side - 1);
            var top = random.Next(side - s + 1);
            var left = random.Next(side - s + 1);
            var next = (float[])delta.Clone();

            // One channel: the window gets a single new sign; redraw until it differs from what is there.
            float sign;
            var tries = 0;
            do
            {
                sign = random.Next(2) == 0 ? -eps : eps;
            }
            while (sign == delta[(top * side) + left] && ++tries < 8);
            for (var r = top; r < top + s; r++)
            {
                for (var c = left; c < left + s; c++)
                {
                    next[(r * side) + c] = sign;
                }
            }

            candidate = Apply(x, next);
            p = await oracle.ScoresAsync(candidate, cancellationToken);
            var nextLoss = Margin(p, label);
            if (nextLoss < loss)
            {
                loss = nextLoss;
                delta = next;
            }
        }

        return true;
    }

    private float Fraction(int iteration, int budget)
    {
        var scaled = (int)(iteration * 10000L / Math.Max(budget, 1));
        var p = options.InitialFraction;
        foreach (var step in Schedule)
        {
            if (scaled > step)
            {
                p /= 2;
            }
        }

        return p;
    }

    private static float[] Apply(float[] x, float[] delta)
    {
        var y = new float[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            y[i] = Math.Clamp(x[i] + delta[i], 0f, 1f);
        }

        return y;
    }
}
