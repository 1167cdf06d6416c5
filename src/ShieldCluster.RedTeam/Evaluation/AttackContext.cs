using ShieldCluster.RedTeam.Data;
using ShieldCluster.RedTeam.Substitute;
using ShieldCluster.RedTeam.Target;

namespace ShieldCluster.RedTeam.Evaluation;

/// <summary>
/// Everything one attack run needs: fresh clients on the target, the data, the seed, and the
/// tally of its queries from which the runner judges detection.
/// </summary>
public sealed class AttackContext
{
    private readonly List<QueryRecorder> _clients = [];
    private readonly Lock _gate = new();
    private readonly string _plan;
    private readonly string _observerPlan;

    /// <summary>Creates a context for one attack on one target.</summary>
    public AttackContext(ITarget target, TargetState state, FashionMnist data, int seed, AttackScale scale, string plan, string observerPlan, IProgress<double>? progress = null)
    {
        Target = target;
        State = state;
        Data = data;
        Seed = seed;
        Scale = scale;
        _plan = plan;
        _observerPlan = observerPlan;
        Progress = progress;
    }

    /// <summary>The target.</summary>
    public ITarget Target { get; }

    /// <summary>State shared with other attacks on the same target.</summary>
    public TargetState State { get; }

    /// <summary>The data: attackers draw from <see cref="FashionMnist.Train"/>, judge on <see cref="FashionMnist.Test"/>.</summary>
    public FashionMnist Data { get; }

    /// <summary>The run's seed.</summary>
    public int Seed { get; }

    /// <summary>Budgets.</summary>
    public AttackScale Scale { get; }

    /// <summary>Reports the attack's progress in [0, 1].</summary>
    public IProgress<double>? Progress { get; }

    /// <summary>Every client made so far, in order.</summary>
    public IReadOnlyList<QueryRecorder> Clients
    {
        get
        {
            lock (_gate)
            {
                return [.. _clients];
            }
        }
    }

    /// <summary>Number of evaluation images on which agreement with the victim is measured.</summary>
    public int AgreementImages => Scale == AttackScale.Full ? 2000 : 500;

    /// <summary>A deterministic random stream for <paramref name="purpose"/>.</summary>
    public Random Random(string purpose) => SeededRandom.Create(Seed, purpose);

    /// <summary>Registers a fresh attack client.</summary>
    public Task<QueryRecorder> NewAttackerAsync(string role, CancellationToken cancellationToken) => NewClientAsync(role, _plan, attacker: true, cancellationToken);

    /// <summary>Registers a fresh client that only measures (its queries are not attack queries).</summary>
    public Task<QueryRecorder> NewObserverAsync(string role, CancellationToken cancellationToken) => NewClientAsync(role, _observerPlan, attacker: false, cancellationToken);

    /// <summary>
    /// The victim's labels on the first <see cref="AgreementImages"/> test images, queried once per
    /// target through a separate fresh observer client in batches of 64.
    /// </summary>
    public Task<int[]> VictimTestLabelsAsync(CancellationToken cancellationToken) => State.VictimLabelsAsync(async () =>
    {
        var observer = await NewObserverAsync("eval", cancellationToken);
        var labels = await QueryLabelsAsync(observer, Data.Test, Enumerable.Range(0, AgreementImages).ToArray(), cancellationToken);
        if (labels.Any(l => l < 0))
        {
            throw new InvalidOperationException($"the victim did not answer the agreement images: {observer.LastError}");
        }

        return labels;
    });

    /// <summary>Share of the agreement images on which <paramref name="model"/> and the victim agree.</summary>
    public async Task<double> AgreementAsync(ISubstituteModel model, CancellationToken cancellationToken)
    {
        var victim = await VictimTestLabelsAsync(cancellationToken);
        return SubstituteMath.Accuracy(model, Data.Test.Images.AsSpan(0, victim.Length * Data.Test.Pixels), victim);
    }

    /// <summary>Accuracy of <paramref name="model"/> on the whole test set.</summary>
    public double TestAccuracy(ISubstituteModel model) =>
        SubstituteMath.Accuracy(model, Data.Test.Images, Data.Test.Labels.Select(l => (int)l).ToArray());

    /// <summary>Victim labels (arg-max) of <paramref name="indices"/> of <paramref name="set"/>; -1 where unanswered.</summary>
    public static async Task<int[]> QueryLabelsAsync(ITargetModel client, ImageDataset set, IReadOnlyList<int> indices, CancellationToken cancellationToken)
    {
        var labels = new int[indices.Count];
        Array.Fill(labels, -1);
        for (var start = 0; start < indices.Count; start += 64)
        {
            var n = Math.Min(64, indices.Count - start);
            var batch = set.Subset(indices.Skip(start).Take(n).ToArray());
            var response = await client.InferAsync(batch.Images, n, cancellationToken);
            if (!response.Answered)
            {
                break;
            }

            for (var i = 0; i < n; i++)
            {
                labels[start + i] = response.Label(i, client.Classes);
            }
        }

        return labels;
    }

    /// <summary>
    /// Builds the attack's result from its own verdict and this context's tally; the runner adds
    /// what the admin reports show.
    /// </summary>
    public AttackResult Result(string attack, bool goalReached, string goal, string summary, IDictionary<string, double> details)
    {
        var attackers = Clients.Where(c => c.IsAttacker).ToList();
        int? first = null;
        var before = 0;
        foreach (var client in attackers)
        {
            if (first is null && client.FirstRefusalQuery is { } index)
            {
                first = before + index;
            }

            before += client.Queries;
        }

        return new AttackResult
        {
            Attack = attack,
            Target = State.Label,
            GoalReached = goalReached,
            Goal = goal,
            Summary = summary,
            Details = new SortedDictionary<string, double>(details, StringComparer.Ordinal),
            Queries = before,
            Clients = attackers.Count,
            QueriesToFirstRefusal = first,
            Refusals = attackers.Sum(c => c.Refusals),
            DegradedItems = attackers.Sum(c => c.DegradedItems),
            RateLimitWaits = attackers.Sum(c => c.RateLimitWaits),
        };
    }

    private async Task<QueryRecorder> NewClientAsync(string role, string plan, bool attacker, CancellationToken cancellationToken)
    {
        var client = await Target.CreateClientAsync(role, plan, cancellationToken);
        var recorder = new QueryRecorder(client, attacker);
        lock (_gate)
        {
            _clients.Add(recorder);
        }

        return recorder;
    }
}
