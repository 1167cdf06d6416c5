using ShieldCluster.RedTeam.Evaluation;
using ShieldCluster.RedTeam.Substitute;
using ShieldCluster.RedTeam.Target;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>
/// Transfer attack: craft adversarial examples on the stolen substitute (white-box) with FGSM or
/// PGD, then send each example once, through its own fresh client, so no query history links them.
/// </summary>
/// <remarks>
/// FGSM: Goodfellow, Shlens and Szegedy, "Explaining and Harnessing Adversarial Examples", ICLR 2015,
/// arXiv 1412.6572. PGD: Madry, Makelov, Schmidt, Tsipras and Vladu, "Towards Deep Learning Models
/// Resistant to Adversarial Attacks", ICLR 2018, arXiv 1706.06083 (random start, step 2.5·ε/steps).
/// Transferability: Papernot et al., AsiaCCS 2017. The substitute is the one Knockoff stole from the
/// baseline when a baseline ran (the attacker's best case: the copy could come from anywhere),
/// else the one stolen from this target, else one stolen here and now. Sources are test images that
/// both the substitute and the victim (asked once by an observer client) classify correctly.
/// Only a per-request input filter can see these queries; the refused/degraded share measures it.
/// Goal: at least <see cref="TransferOptions.MinFoolingRate"/> of the examples misclassified by the victim.
/// </remarks>
public sealed class TransferAttack(TransferMethod method, TransferOptions options, Func<ISubstituteModel?>? preferredSubstitute = null) : IAttack
{
    /// <inheritdoc />
    public string Name => method == TransferMethod.Fgsm ? "transfer-fgsm" : "transfer-pgd";

    /// <inheritdoc />
    public async Task<AttackResult> RunAsync(AttackContext context, CancellationToken cancellationToken)
    {
        var substitute = preferredSubstitute?.Invoke() ?? context.State.Substitute;
        if (substitute is null)
        {
            (substitute, _, _) = await new KnockoffAttack(options.Knockoff).StealAsync(context, "transfer-steal", cancellationToken);
            context.State.Substitute = substitute;
        }

        var test = context.Data.Test;
        var random = context.Random(Name);

        // Sources from beyond the agreement subset, correct on the substitute.
        var candidates = Enumerable.Range(context.AgreementImages, test.Count - context.AgreementImages)
            .OrderBy(_ => random.Next())
            .Where(i => SubstituteMath.Classify(substitute, test.Image(i)) == test.Labels[i])
            .Take(options.Examples * 2)
            .ToArray();
        var observer = await context.NewObserverAsync($"{Name}-check", cancellationToken);
        var victim = await AttackContext.QueryLabelsAsync(observer, test, candidates, cancellationToken);
        var sources = candidates.Where((_, k) => victim[k] == test.Labels[candidates[k]]).Take(options.Examples).ToArray();

        int fooled = 0, refused = 0, degraded = 0, sent = 0;
        var gradient = new float[test.Pixels];
        var answered = new List<string>();
        foreach (var index in sources)
        {
            var x = test.CopyImage(index);
            var adversarial = Craft(substitute, x, test.Labels[index], gradient, random);
            var client = await context.NewAttackerAsync(method == TransferMethod.Fgsm ? "fgsm" : "pgd", cancellationToken);
            var response = await client.InferAsync(adversarial, 1, cancellationToken);
            sent++;
            if (response.Kind == ResponseKind.Unreachable)
            {
                throw new TargetUnreachableException($"the target stopped answering: {response.StatusCode} {response.Error}");
            }

            if (!response.Answered)
            {
                if (response.Kind != ResponseKind.RateLimited)
                {
                    refused++;
                }
            }
            else
            {
                if (response.Degraded[0])
                {
                    degraded++;
                }

                if (response.Label(0, client.Classes) != test.Labels[index])
                {
                    fooled++;
                }

                answered.Add(client.ClientId);
            }

            context.Progress?.Report((double)sent / Math.Max(1, sources.Length));
        }

        var filtered = await CountFilteredAsync(context, answered, cancellationToken);
        var rate = sent == 0 ? 0 : (double)fooled / sent;
        var goal = $"at least {options.MinFoolingRate:P0} of {options.Examples} examples (Linf {options.Epsilon}) fool the victim";
        var details = new Dictionary<string, double>
        {
            ["examples"] = sent,
            ["epsilon"] = options.Epsilon,
            ["fooling_rate"] = rate,
            ["refused_share"] = sent == 0 ? 0 : (double)refused / sent,
            ["degraded_share"] = sent == 0 ? 0 : (double)degraded / sent,
            ["filtered_share"] = sent == 0 ? 0 : (double)filtered / sent,
        };
        var summary = $"{fooled}/{sent} fool the victim, {refused} refused, {degraded} degraded, {filtered} flagged by the input filter";
        return context.Result(Name, sent > 0 && rate >= options.MinFoolingRate, goal, summary, details);
    }

    /// <summary>
    /// How many of the answered examples the server's input filter flagged: each went through its own
    /// client, whose admin report shows the <c>squeezing</c> detector above 0 once the server has
    /// recorded the query. The server records after answering, in order, so the last client's report
    /// is polled (up to a second) until it shows its query; a server that records nothing (protection
    /// off) costs that second once, not per example.
    /// </summary>
    private static async Task<int> CountFilteredAsync(AttackContext context, List<string> clients, CancellationToken cancellationToken)
    {
        if (clients.Count == 0)
        {
            return 0;
        }

        for (var attempt = 0; attempt < 50; attempt++)
        {
            var last = await context.Target.GetReportAsync(clients[^1], cancellationToken);
            if (last is { HistoryItems: > 0 })
            {
                break;
            }

            await Task.Delay(20, cancellationToken);
        }

        var flagged = 0;
        foreach (var clientId in clients)
        {
            var report = await context.Target.GetReportAsync(clientId, cancellationToken);
            flagged += report?.ScoreOf("squeezing") > 0 ? 1 : 0;
        }

        return flagged;
    }

    /// <summary>Crafts one example on the substitute, untargeted, within Linf ε of <paramref name="x"/>.</summary>
    internal float[] Craft(ISubstituteModel substitute, float[] x, int label, float[] gradient, Random random)
    {
        var eps = options.Epsilon;
        var adversarial = (float[])x.Clone();
        if (method == TransferMethod.Fgsm)
        {
            SubstituteMath.LossInputGradient(substitute, x, label, gradient);
            for (var i = 0; i < x.Length; i++)
            {
                adversarial[i] = x[i] + (eps * MathF.Sign(gradient[i]));
            }

            VectorMath.ProjectLinf(adversarial, x, eps);
            return adversarial;
        }

        var alpha = 2.5f * eps / options.Steps;
        for (var i = 0; i < x.Length; i++)
        {
            adversarial[i] = x[i] + ((float)((random.NextDouble() * 2) - 1) * eps);
        }

        VectorMath.ProjectLinf(adversarial, x, eps);
        for (var step = 0; step < options.Steps; step++)
        {
            SubstituteMath.LossInputGradient(substitute, adversarial, label, gradient);
            for (var i = 0; i < x.Length; i++)
            {
                adversarial[i] += alpha * MathF.Sign(gradient[i]);
            }

            VectorMath.ProjectLinf(adversarial, x, eps);
        }

        return adversarial;
    }
}
