using ShieldCluster.LoadGen;

namespace ShieldCluster.LoadGen.Tests;

/// <summary>Reports built around phases, for the tests of what a report writes and reads back.</summary>
internal static class Reports
{
    /// <summary>A report of this one phase, no ratios or notes.</summary>
    public static BenchmarkReport Of(PhaseResult phase) => new()
    {
        StartedAt = DateTimeOffset.UnixEpoch,
        Command = "loadgen",
        Machine = new MachineInfo("cpu", 2, 1, "0", "0", null, null),
        Images = "synthetic",
        Phases = [phase],
        Ratios = [],
        Notes = [],
    };
}
