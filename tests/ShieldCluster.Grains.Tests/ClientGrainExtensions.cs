using ShieldCluster.Contracts;

namespace ShieldCluster.Grains.Tests;

/// <summary>Waiting on a client grain's report, for effects of one-way calls.</summary>
internal static class ClientGrainExtensions
{
    /// <summary>
    /// Polls the report until <paramref name="condition"/> holds or 10 seconds pass, and returns the
    /// last report either way, so the caller's assertion says what was seen.
    /// </summary>
    public static async Task<ClientReport> WaitForReportAsync(this IClientGrain client, Func<ClientReport, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var report = (await client.GetReportAsync())!;
            if (condition(report) || DateTime.UtcNow > deadline)
            {
                return report;
            }

            await Task.Delay(10);
        }
    }
}
