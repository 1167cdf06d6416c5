using ShieldCluster.RedTeam.Attacks;
using ShieldCluster.RedTeam.Evaluation;
using ShieldCluster.RedTeam.Substitute;

namespace ShieldCluster.RedTeam.Tests;

public sealed class AttackTests
{
    private static AttackContext Context(InProcessTarget target, string label = "baseline", int seed = 3) =>
        new(target, new TargetState(label), SyntheticData.Data, seed, AttackScale.Small, "standard", "standard");

    [Fact]
    public void Victim_is_a_competent_classifier()
    {
        var test = SyntheticData.Data.Test;
        var accuracy = SubstituteMath.Accuracy(SyntheticData.Victim, test.Images, test.Labels.Select(l => (int)l).ToArray());
        Assert.True(accuracy > 0.9, $"victim accuracy {accuracy}");
    }

    [Fact]
    public async Task SimBA_finds_an_adversarial_example_within_budget()
    {
        var target = new InProcessTarget(SyntheticData.Victim);
        var result = await new SimBaAttack(new SimBaOptions { Images = 2, QueriesPerImage = 1500 }).RunAsync(Context(target), CancellationToken.None);
        Assert.True(result.GoalReached, result.Summary);
        Assert.InRange(result.Details["median_l2"], 0.01, 4.0);
        Assert.Null(result.QueriesToFirstRefusal);
    }

    [Fact]
    public async Task SimBA_is_reproducible_with_a_fixed_seed()
    {
        var a = await new SimBaAttack(SimBaOptions.For(AttackScale.Small)).RunAsync(Context(new InProcessTarget(SyntheticData.Victim)), CancellationToken.None);
        var b = await new SimBaAttack(SimBaOptions.For(AttackScale.Small)).RunAsync(Context(new InProcessTarget(SyntheticData.Victim)), CancellationToken.None);
        Assert.Equal(a.Queries, b.Queries);
        Assert.Equal(a.Details["median_l2"], b.Details["median_l2"]);
    }

    [Fact]
    public async Task Square_attack_misclassifies_within_linf_budget()
    {
        var target = new InProcessTarget(SyntheticData.Victim);
        var result = await new SquareAttack(new SquareOptions { Images = 2, QueriesPerImage = 1000, Epsilon = 0.15f }).RunAsync(Context(target), CancellationToken.None);
        Assert.True(result.GoalReached, result.Summary);
    }

    [Fact]
    public void Square_margin_is_negative_exactly_when_misclassified()
    {
        Assert.True(SquareAttack.Margin([0.7f, 0.2f, 0.1f], 0) > 0);
        Assert.True(SquareAttack.Margin([0.3f, 0.6f, 0.1f], 0) < 0);
    }

    [Fact]
    public async Task HopSkipJump_walks_the_boundary_with_labels_only()
    {
        // Label-only answers from the first query: HSJ must not care.
        var target = new InProcessTarget(SyntheticData.Victim, degradeAfter: 0);
        var result = await new HopSkipJumpAttack(new HopSkipJumpOptions { Images = 1, QueriesPerImage = 1500, InitialEvaluations = 40, MaxEvaluations = 128, MaxL2 = 3f })
            .RunAsync(Context(target), CancellationToken.None);
        Assert.True(result.GoalReached, result.Summary);
        Assert.Equal(1, result.QueriesToFirstRefusal);
        Assert.True(result.DegradedItems > 0);
    }

    [Fact]
    public async Task Knockoff_steals_a_useful_copy_and_transfer_uses_it()
    {
        var target = new InProcessTarget(SyntheticData.Victim);
        var context = Context(target);
        var knockoff = await new KnockoffAttack(new KnockoffOptions { Queries = 640, Hidden = 32, Training = new TrainingOptions { Epochs = 15 }, MinAccuracy = 0.8 })
            .RunAsync(context, CancellationToken.None);
        Assert.True(knockoff.GoalReached, knockoff.Summary);
        Assert.Equal(640, knockoff.Queries);
        Assert.True(knockoff.Details["agreement"] > 0.8, knockoff.Summary);
        Assert.NotNull(context.State.Substitute);

        var created = target.ClientsCreated;
        var transfer = await new TransferAttack(TransferMethod.Pgd, new TransferOptions { Examples = 10, Epsilon = 0.15f, Steps = 10 })
            .RunAsync(WithSubstitute(Context(target), context.State.Substitute!), CancellationToken.None);
        Assert.True(transfer.GoalReached, transfer.Summary);
        Assert.Equal(10, transfer.Clients);
        Assert.Equal(10, transfer.Queries);
        Assert.True(target.ClientsCreated >= created + 11);
    }

    private static AttackContext WithSubstitute(AttackContext context, ISubstituteModel substitute)
    {
        context.State.Substitute = substitute;
        return context;
    }

    [Fact]
    public void Fgsm_and_pgd_stay_inside_the_linf_ball_and_unit_range()
    {
        var attack = new TransferAttack(TransferMethod.Pgd, new TransferOptions { Epsilon = 0.05f, Steps = 5 });
        var fgsm = new TransferAttack(TransferMethod.Fgsm, new TransferOptions { Epsilon = 0.05f });
        var x = SyntheticData.Data.Test.CopyImage(0);
        foreach (var a in new[] { attack, fgsm })
        {
            var adv = a.Craft(SyntheticData.Victim, x, SyntheticData.Data.Test.Labels[0], new float[784], new Random(1));
            Assert.All(adv.Zip(x), p => Assert.InRange(p.First - p.Second, -0.05f - 1e-6f, 0.05f + 1e-6f));
            Assert.All(adv, v => Assert.InRange(v, 0f, 1f));
        }
    }

    [Fact]
    public async Task JbDA_doubles_the_labelled_set_each_round()
    {
        var target = new InProcessTarget(SyntheticData.Victim);
        var result = await new JbdaAttack(new JbdaOptions { SeedImages = 20, Rounds = 2, MinAccuracy = 0.3, Training = new TrainingOptions { Epochs = 10, BatchSize = 16, LearningRate = 1e-2f } })
            .RunAsync(Context(target), CancellationToken.None);
        Assert.Equal(80, result.Details["labelled_images"]);
        Assert.Equal(80, result.Queries);
        Assert.True(result.GoalReached, result.Summary);
    }

    [Fact]
    public async Task A_block_stops_the_attack_and_records_the_first_refused_query()
    {
        var target = new InProcessTarget(SyntheticData.Victim, blockAfter: 30);
        var result = await new SimBaAttack(new SimBaOptions { Images = 1, QueriesPerImage = 1500 }).RunAsync(Context(target, "protected"), CancellationToken.None);
        Assert.False(result.GoalReached);
        Assert.Equal(31, result.QueriesToFirstRefusal);
        Assert.Equal(1, result.Refusals);
    }

    [Fact]
    public async Task Honest_clients_on_an_unprotected_target_are_never_flagged()
    {
        var target = new InProcessTarget(SyntheticData.Victim);
        var result = await new HonestClients(new HonestClientsOptions { Clients = 4, QueriesPerClient = 40, Concurrency = 2 }).RunAsync(Context(target), CancellationToken.None);
        Assert.Equal(160, result.Queries);
        Assert.Equal(0, result.ClientsFlagged);
        Assert.Null(result.Error);
    }

    [Fact]
    public async Task Honest_clients_that_get_label_only_answers_count_as_flagged()
    {
        var target = new InProcessTarget(SyntheticData.Victim, degradeAfter: 10);
        var result = await new HonestClients(new HonestClientsOptions { Clients = 2, QueriesPerClient = 20, Concurrency = 2 }).RunAsync(Context(target), CancellationToken.None);
        Assert.Equal(2, result.ClientsFlagged);
        Assert.Equal(0.5, result.ShareQueriesDegraded, 3);
    }

    [Fact]
    public void Near_duplicates_stay_close_and_in_range()
    {
        var x = SyntheticData.Data.Test.CopyImage(5);
        var random = new Random(9);
        for (var i = 0; i < 20; i++)
        {
            var y = HonestClients.NearDuplicate(x, random);
            Assert.All(y, v => Assert.InRange(v, 0f, 1f));
            Assert.NotEqual(x, y);
        }
    }
}
