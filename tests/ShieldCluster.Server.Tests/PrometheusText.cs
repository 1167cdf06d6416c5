namespace ShieldCluster.Server.Tests;

/// <summary>Reads the server's /metrics (Prometheus' text format).</summary>
internal static class PrometheusText
{
    /// <summary>The value of one series (its full name with labels); 0 when <paramref name="orZero"/> and it is not there yet.</summary>
    public static double Series(string text, string series, bool orZero = false)
    {
        var line = text.Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        if (line is null && orZero)
        {
            return 0;
        }

        Assert.True(line is not null, $"no series {series} in /metrics");
        return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
