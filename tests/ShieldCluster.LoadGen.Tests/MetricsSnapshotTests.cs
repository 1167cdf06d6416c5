using ShieldCluster.LoadGen;

namespace ShieldCluster.LoadGen.Tests;

/// <summary>The server-side figures of a window, from two scrapes of the server's Prometheus text.</summary>
public class MetricsSnapshotTests
{
    private static string Scrape(long requests, double seconds, long calls, long items, long leased, long granted) => string.Join('\n',
        "# HELP shield_inference_duration_seconds latency",
        $"shield_inference_duration_seconds_sum{{model=\"m\"}} {seconds}",
        $"shield_inference_duration_seconds_count{{model=\"m\"}} {requests}",
        $"shield_inference_duration_seconds_bucket{{model=\"m\",le=\"0.01\"}} {requests}",
        $"shield_inference_duration_seconds_bucket{{model=\"m\",le=\"+Inf\"}} {requests}",
        $"shield_inference_batch_size_sum{{model=\"m\"}} {requests}",
        $"shield_inference_batch_size_count{{model=\"m\"}} {requests}",
        $"shield_model_calls_total{{model=\"m\",version=\"1\"}} {calls}",
        $"shield_model_call_items_total{{model=\"m\",version=\"1\"}} {items}",
        $"shield_admissions_total{{by=\"lease\"}} {leased}",
        $"shield_admissions_total{{by=\"grain\"}} {granted}");

    [Fact]
    public void Between_GivesTheItemsPerModelCall_AndTheLeasedShare_OfTheWindow()
    {
        var start = MetricsSnapshot.Parse(Scrape(requests: 100, seconds: 1, calls: 10, items: 100, leased: 50, granted: 50));
        var end = MetricsSnapshot.Parse(Scrape(requests: 740, seconds: 7.4, calls: 30, items: 740, leased: 530, granted: 210));

        var stats = MetricsSnapshot.Between(start, end)!;

        Assert.Equal(640, stats.Requests);
        Assert.Equal(10, stats.MeanMs);
        Assert.Equal(32, stats.MeanModelBatch);
        Assert.Equal(1, stats.MeanBatchSize);
        Assert.Equal(0.75, stats.LeasedShare);
        Assert.Equal("<= 10 ms", stats.P99Bucket);
    }

    [Fact]
    public void Between_GivesTheShareOfQueuedItemsThatSkippedTheCrossClientCheck()
    {
        static string WithCrossClient(string scrape, long skipped, long checkedItems) => string.Join('\n',
            scrape,
            $"shield_crossclient_skipped_total {skipped}",
            $"shield_crossclient_batch_items_sum {checkedItems}",
            $"shield_crossclient_batch_items_count {checkedItems / 8}");
        var start = MetricsSnapshot.Parse(WithCrossClient(Scrape(100, 1, 10, 100, 50, 50), skipped: 40, checkedItems: 1_000));
        var end = MetricsSnapshot.Parse(WithCrossClient(Scrape(740, 7.4, 30, 740, 530, 210), skipped: 140, checkedItems: 1_300));

        // 100 skipped and 300 checked in the window, in 162 - 125 = 37 batches.
        Assert.Equal(0.25, MetricsSnapshot.Between(start, end)!.CrossClientSkippedShare);
        Assert.Equal(8.11, MetricsSnapshot.Between(start, end)!.MeanCrossClientBatch);

        // Protection off: the series are absent (or still), and there is no figure rather than 0%.
        var off = MetricsSnapshot.Between(MetricsSnapshot.Parse(Scrape(100, 1, 10, 100, 50, 50)), MetricsSnapshot.Parse(Scrape(740, 7.4, 30, 740, 530, 210)))!;
        Assert.Null(off.CrossClientSkippedShare);
        Assert.Null(off.MeanCrossClientBatch);
        Assert.Null(MetricsSnapshot.Between(start, start)?.CrossClientSkippedShare);
    }

    [Fact]
    public void Between_GivesTheLeaseRenewalsPerRequest_SummedOverOutcomes()
    {
        static string WithRenewals(string scrape, long renewed, long ended) => string.Join('\n',
            scrape,
            $"shield_lease_renewals_total{{outcome=\"renewed\"}} {renewed}",
            $"shield_lease_renewals_total{{outcome=\"ended\"}} {ended}");
        var start = MetricsSnapshot.Parse(WithRenewals(Scrape(100, 1, 10, 100, 50, 50), renewed: 10, ended: 0));
        var end = MetricsSnapshot.Parse(WithRenewals(Scrape(740, 7.4, 30, 740, 530, 210), renewed: 40, ended: 2));

        // 32 renewals over 640 requests.
        Assert.Equal(0.05, MetricsSnapshot.Between(start, end)!.RenewalsPerRequest);
        Assert.Null(MetricsSnapshot.Between(start, start)?.RenewalsPerRequest);
        Assert.Null(MetricsSnapshot.Between(MetricsSnapshot.Parse(Scrape(100, 1, 10, 100, 50, 50)), MetricsSnapshot.Parse(Scrape(740, 7.4, 30, 740, 530, 210)))!.RenewalsPerRequest);
    }

    [Fact]
    public void Between_WithoutModelCalls_HasNoItemsPerCall()
    {
        var start = MetricsSnapshot.Parse(Scrape(10, 0.1, 5, 10, 0, 10));
        var end = MetricsSnapshot.Parse(Scrape(20, 0.2, 5, 10, 0, 20));
        Assert.Null(MetricsSnapshot.Between(start, end)!.MeanModelBatch);
    }
}
