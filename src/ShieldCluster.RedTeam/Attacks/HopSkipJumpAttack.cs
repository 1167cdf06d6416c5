using ShieldCluster.RedTeam.Evaluation;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>
/// HopSkipJump (L2, untargeted), a decision-based attack that needs only the victim's top label:
/// start from a natural image the victim puts in another class, binary-search to the decision
/// boundary, estimate the boundary's normal from the labels of random perturbations around the
/// boundary point, step along it with a geometrically shrinking step until still adversarial,
/// binary-search back to the boundary, and repeat.
/// </summary>
/// <remarks>
/// Chen, Jordan and Wainwright, "HopSkipJumpAttack: a query-efficient decision-based attack",
/// IEEE S&amp;P 2020, arXiv 1904.02144. Parameters follow the paper: γ = 1, θ = γ/d^{3/2} as the
/// binary-search tolerance, δ = √d·θ·‖x_t − x*‖ (0.1 at the first step) for the Monte-Carlo
/// probes, n_t = n_0·√t samples (capped), a baseline subtracted from the ±1 signs, and step
/// ξ_t = ‖x_t − x*‖/√t halved until the point stays adversarial. Probes are sent in batches of 64.
/// Goal: an adversarial example within <see cref="HopSkipJumpOptions.MaxL2"/> of the original for
/// at least half the images. Degraded (one-hot) answers do not slow it: it uses labels only.
/// </remarks>
public sealed class HopSkipJumpAttack(HopSkipJumpOptions options) : IAttack
{
    /// <inheritdoc />
    public string Name => "hsj";

    /// <inheritdoc />
    public async Task<AttackResult> RunAsync(AttackContext context, CancellationToken cancellationToken)
    {
        var client = await context.NewAttackerAsync(Name, cancellationToken);
        var random = context.Random(Name);
        var goal = $"adversarial within L2 <= {options.MaxL2} in {options.QueriesPerImage} label queries, on at least half of {options.Images} images";
        var successes = 0;
        var distances = new List<double>();
        var (seeds, stopped) = await EvasionSeeds.PickOrStopAsync(client, context.Data.Train, options.Images, random, cancellationToken, acceptDegraded: true);

        for (var n = 0; n < seeds.Count && stopped is null; n++)
        {
            var oracle = new BudgetedOracle(client, options.QueriesPerImage);
            var walk = new Walk(oracle, seeds[n].Image, seeds[n].Label, options, random, context.Data.Train);
            try
            {
                await walk.RunAsync(cancellationToken);
            }
            catch (AttackStoppedException e)
            {
                if (client.Blocked || e.Message.StartsWith("rate", StringComparison.Ordinal))
                {
                    stopped = e.Message;
                }
            }

            if (walk.Best is not null)
            {
                var d = VectorMath.L2(walk.Best, seeds[n].Image);
                distances.Add(d);
                if (d <= options.MaxL2)
                {
                    successes++;
                }
            }

            context.Progress?.Report((n + 1.0) / options.Images);
        }

        var reached = successes > 0 && successes * 2 >= options.Images;
        var details = new Dictionary<string, double>
        {
            ["images"] = options.Images,
            ["successes"] = successes,
            ["median_l2"] = VectorMath.Median(distances),
        };
        var summary = $"{successes}/{options.Images} within L2 {options.MaxL2}"
            + (distances.Count > 0 ? $", median L2 {VectorMath.Median(distances):0.00}" : "")
            + (stopped is null ? "" : $"; stopped: {stopped}");
        return context.Result(Name, reached, goal, summary, details);
    }

    /// <summary>One image's boundary walk; <see cref="Best"/> survives an early stop.</summary>
    private sealed class Walk(BudgetedOracle oracle, float[] original, int label, HopSkipJumpOptions options, Random random, Data.ImageDataset pool)
    {
        private readonly int _d = original.Length;

        public float[]? Best { get; private set; }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            var theta = 1f / (_d * MathF.Sqrt(_d));
            var start = await InitialiseAsync(cancellationToken);
            var x = await BinarySearchAsync(start, theta, cancellationToken);
            Best = x;
            var distance = VectorMath.L2(x, original);
            for (var t = 1; oracle.Remaining > 0; t++)
            {
                var delta = t == 1 ? 0.1f : MathF.Sqrt(_d) * theta * distance;
                var samples = (int)Math.Min(options.MaxEvaluations, options.InitialEvaluations * Math.Sqrt(t));
                samples = Math.Min(samples, Math.Max(oracle.Remaining - 30, 8));
                var direction = await EstimateGradientAsync(x, samples, delta, cancellationToken);

                // Geometric step search: shrink ξ until the stepped point is still adversarial.
                var step = distance / MathF.Sqrt(t);
                float[] stepped;
                var tries = 0;
                while (true)
                {
                    stepped = Add(x, direction, step);
                    if (await IsAdversarialAsync(stepped, cancellationToken) || ++tries >= 12)
                    {
                        break;
                    }

                    step /= 2;
                }

                if (tries >= 12)
                {
                    continue;
                }

                x = await BinarySearchAsync(stepped, theta, cancellationToken);
                var d = VectorMath.L2(x, original);
                if (d < distance)
                {
                    distance = d;
                    Best = x;
                }
            }
        }

        private async Task<float[]> InitialiseAsync(CancellationToken cancellationToken)
        {
            // A natural image the victim already puts in another class.
            for (var round = 0; round < 5; round++)
            {
                var indices = Enumerable.Range(0, 8).Select(_ => random.Next(pool.Count)).Where(i => pool.Labels[i] != label).ToArray();
                var batch = pool.Subset(indices);
                var labels = await oracle.LabelsAsync(batch.Images, indices.Length, cancellationToken);
                for (var i = 0; i < labels.Length; i++)
                {
                    if (labels[i] != label)
                    {
                        return batch.CopyImage(i);
                    }
                }
            }

            throw new AttackStoppedException("no starting image of another class found");
        }

        private async Task<bool> IsAdversarialAsync(float[] x, CancellationToken cancellationToken) =>
            (await oracle.LabelsAsync(x, 1, cancellationToken))[0] != label;

        /// <summary>Blends towards <paramref name="adversarial"/> from the original and keeps the adversarial end.</summary>
        private async Task<float[]> BinarySearchAsync(float[] adversarial, float theta, CancellationToken cancellationToken)
        {
            float low = 0, high = 1;
            while (high - low > theta)
            {
                var mid = (low + high) / 2;
                if (await IsAdversarialAsync(Blend(adversarial, mid), cancellationToken))
                {
                    high = mid;
                }
                else
                {
                    low = mid;
                }
            }

            return Blend(adversarial, high);
        }

        private async Task<float[]> EstimateGradientAsync(float[] x, int samples, float delta, CancellationToken cancellationToken)
        {
            var probes = new float[samples * _d];
            var directions = new float[samples * _d];
            for (var s = 0; s < samples; s++)
            {
                var u = directions.AsSpan(s * _d, _d);
                double norm = 0;
                for (var i = 0; i < _d; i++)
                {
                    u[i] = random.NextGaussian();
                    norm += u[i] * u[i];
                }

                var scale = (float)(1 / Math.Sqrt(norm));
                var probe = probes.AsSpan(s * _d, _d);
                for (var i = 0; i < _d; i++)
                {
                    probe[i] = Math.Clamp(x[i] + (delta * u[i] * scale), 0f, 1f);

                    // The direction actually taken after clipping.
                    u[i] = (probe[i] - x[i]) / delta;
                }
            }

            var labels = await oracle.LabelsAsync(probes, samples, cancellationToken);
            var signs = labels.Select(l => l != label ? 1f : -1f).ToArray();
            var mean = signs.Average();
            var gradient = new float[_d];
            for (var s = 0; s < samples; s++)
            {
                var weight = mean is 1f or -1f ? mean : signs[s] - mean;
                var u = directions.AsSpan(s * _d, _d);
                for (var i = 0; i < _d; i++)
                {
                    gradient[i] += weight * u[i];
                }
            }

            var length = MathF.Sqrt(gradient.Sum(g => g * g));
            if (length > 0)
            {
                for (var i = 0; i < _d; i++)
                {
                    gradient[i] /= length;
                }
            }

            return gradient;
        }

        private float[] Blend(float[] adversarial, float alpha)
        {
            var y = new float[_d];
            for (var i = 0; i < _d; i++)
            {
                y[i] = ((1 - alpha) * original[i]) + (alpha * adversarial[i]);
            }

            return y;
        }

        private static float[] Add(float[] x, float[] direction, float step)
        {
            var y = new float[x.Length];
            for (var i = 0; i < x.Length; i++)
            {
                y[i] = Math.Clamp(x[i] + (step * direction[i]), 0f, 1f);
            }

            return y;
        }
    }
}
