using ShieldCluster.Protection.Risk;

namespace ShieldCluster.Protection.Tests.Risk;

public class PeerVolumesTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Day = 740_000;

    [Fact]
    public void Report_AnswersTheOtherClientsMedianAndP90_NotTheCallers()
    {
        var volumes = new PeerVolumes(1_000);
        for (var i = 1; i <= 10; i++)
        {
            volumes.Report($"c{i}", Day, i * 10, 1.0);
        }

        // Others: 10, 20, ..., 100 without c10's own 100 -> 10..90.
        var stats = volumes.Report("c10", Day, 100, 1.0);
        Assert.Equal(9, stats.Peers);
        Assert.Equal(50, stats.MedianNovel);
        Assert.Equal(90, stats.P90Novel);

        var outsider = volumes.Report("attacker", Day, 5_000, 1.0);
        Assert.Equal(10, outsider.Peers);
        Assert.Equal(90, outsider.P90Novel);
        Assert.Equal(1.0, outsider.MedianCoverage);
    }

    [Fact]
    public void Report_KeepsTheLatestPerClient()
    {
        var volumes = new PeerVolumes(1_000);
        volumes.Report("a", Day, 10, 0.5);
        volumes.Report("a", Day, 30, 0.5);
        var stats = volumes.Report("b", Day, 1, 0.5);
        Assert.Equal(1, stats.Peers);
        Assert.Equal(30, stats.P90Novel);
        Assert.Equal(2, volumes.Clients);
    }

    [Fact]
    public void Report_LargeCounts_AreWithinOnePercent()
    {
        var volumes = new PeerVolumes(1_000);
        var random = new Random(2);
        var values = Enumerable.Range(0, 500).Select(_ => (long)random.Next(100, 1_000_000)).ToArray();
        for (var i = 0; i < values.Length; i++)
        {
            volumes.Report($"c{i}", Day, values[i], 0.3);
        }

        var stats = volumes.Report("new", Day, 0, 0.3);
        var sorted = values.Order().ToArray();
        Assert.Equal(sorted[249], stats.MedianNovel, sorted[249] * 0.011);
        Assert.Equal(sorted[449], stats.P90Novel, sorted[449] * 0.011);
    }

    [Fact]
    public void Report_ANewDayStartsAfresh_AnOldDayIsNotKept()
    {
        var volumes = new PeerVolumes(1_000);
        volumes.Report("a", Day, 500, 1);
        volumes.Report("b", Day, 600, 1);
        var next = volumes.Report("c", Day + 1, 5, 1);
        Assert.Equal(Day + 1, next.DayNumber);
        Assert.Equal(0, next.Peers);

        var late = volumes.Report("a", Day, 700, 1);
        Assert.Equal(Day + 1, late.DayNumber);
        Assert.Equal(1, volumes.Clients);
    }

    [Fact]
    public void Report_BeyondCapacity_ComparesWithoutKeeping()
    {
        var volumes = new PeerVolumes(3);
        volumes.Report("a", Day, 1, 1);
        volumes.Report("b", Day, 2, 1);
        volumes.Report("c", Day, 3, 1);
        var stats = volumes.Report("d", Day, 4, 1);
        Assert.Equal(3, stats.Peers);
        Assert.Equal(3, volumes.Clients);
        Assert.Equal(1, volumes.Overflow);
        Assert.Equal(3, volumes.Report("a", Day, 10, 1).Peers + 1);
    }

    [Fact]
    public void Memory_AtCapacity_IsAFewDozenBytesPerClient()
    {
        const int clients = 100_000;
        var ids = Enumerable.Range(0, clients).Select(i => $"client-{i}").ToArray();
        // Allocated on this thread (other tests run in parallel): what the index holds, plus the
        // arrays its dictionary outgrew on the way; the ids are the caller's (the grain's messages).
        var before = GC.GetAllocatedBytesForCurrentThread();
        var volumes = new PeerVolumes(clients);
        for (var i = 0; i < clients; i++)
        {
            volumes.Report(ids[i], Day, i, 0.5);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{allocated} bytes allocated for {clients} clients ({allocated / (double)clients:F1} per client, resizes included)");
        Assert.Equal(clients, volumes.Clients);
        Assert.True(allocated < clients * 100L, $"{allocated} bytes for {clients} clients ({allocated / (double)clients:F1} per client)");
    }
}
