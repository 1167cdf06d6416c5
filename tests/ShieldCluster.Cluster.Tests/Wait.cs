namespace ShieldCluster.Cluster.Tests;

/// <summary>Waiting on conditions (never on fixed sleeps), failing with what was awaited.</summary>
internal static class Wait
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what}: not reached within {timeout}");
            await Task.Delay(20);
        }
    }

    /// <summary>Polls an asynchronous <paramref name="condition"/>; the seconds it took.</summary>
    public static async Task<double> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var started = DateTime.UtcNow;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < started + timeout, $"{what}: not reached within {timeout}");
            await Task.Delay(100);
        }

        return (DateTime.UtcNow - started).TotalSeconds;
    }
}
