using ShieldCluster.RedTeam.Target;
using ShieldCluster.RedTeam.Data;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>Picks natural training images the victim classifies correctly, as evasion attacks' starting points.</summary>
internal static class EvasionSeeds
{
    /// <summary>
    /// Picks <paramref name="count"/> seeds on a budget of two 64-image batches each. If the target
    /// stops the attack meanwhile, there are no seeds and <c>Stopped</c> says why.
    /// </summary>
    public static async Task<(List<(float[] Image, int Label, float[] Scores)> Seeds, string? Stopped)> PickOrStopAsync(
        ITargetModel client, ImageDataset train, int count, Random random, CancellationToken cancellationToken, bool acceptDegraded = false)
    {
        try
        {
            return (await PickAsync(new BudgetedOracle(client, count * 64 * 2), train, count, random, cancellationToken, acceptDegraded), null);
        }
        catch (AttackStoppedException e)
        {
            return ([], e.Message);
        }
    }

    /// <summary>
    /// Queries random training images in small batches until <paramref name="count"/> are
    /// correctly classified, with non-degraded scores unless <paramref name="acceptDegraded"/>
    /// (label-only attacks), or the budget stops it.
    /// </summary>
    public static async Task<List<(float[] Image, int Label, float[] Scores)>> PickAsync(BudgetedOracle oracle, ImageDataset train, int count, Random random, CancellationToken cancellationToken, bool acceptDegraded = false)
    {
        var picked = new List<(float[], int, float[])>();
        for (var round = 0; picked.Count < count && round < 10; round++)
        {
            var n = Math.Min(64, Math.Max(4, (count - picked.Count) * 2));
            var indices = Enumerable.Range(0, n).Select(_ => random.Next(train.Count)).ToArray();
            var batch = train.Subset(indices);
            var response = await oracle.QueryAsync(batch.Images, n, cancellationToken);
            for (var i = 0; i < n && picked.Count < count; i++)
            {
                if ((acceptDegraded || !response.Degraded[i]) && response.Label(i, oracle.Classes) == batch.Labels[i])
                {
                    picked.Add((batch.CopyImage(i), batch.Labels[i], response.Row(i, oracle.Classes).ToArray()));
                }
            }
        }

        return picked;
    }
}
