using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace ShieldCluster.Grains.Clients;

/// <summary>
/// Which types a process allocates, for load tests (with <see cref="StageTimings"/>, when the process
/// runs with <c>SHIELD_STAGE_TIMINGS_ALLOCATIONS=1</c> as well): the runtime's allocation ticks
/// (one event per ~100 KB allocated on a heap, naming the type of the object that crossed the mark)
/// counted by type, so a type's ticks times 100 KB estimate the bytes allocated as that type.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const int GcKeyword = 0x1;
    private const int AllocationTickEvent = 10;
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);

    /// <summary>Whether it is asked for (<c>SHIELD_STAGE_TIMINGS_ALLOCATIONS=1</c>).</summary>
    public static readonly bool Requested = Environment.GetEnvironmentVariable("SHIELD_STAGE_TIMINGS_ALLOCATIONS") == "1";

    /// <inheritdoc />
    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)GcKeyword);
        }
    }

    /// <inheritdoc />
    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventId != AllocationTickEvent || eventData.Payload is not { } payload || eventData.PayloadNames is not { } names)
        {
            return;
        }

        var type = names.IndexOf("TypeName") is var t and >= 0 ? payload[t] as string ?? "?" : "?";
        var amount = names.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(payload[a], CultureInfo.InvariantCulture) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }

    /// <summary>The <paramref name="top"/> types by sampled bytes since the last call, as "type=KB" pairs; resets the counts.</summary>
    public string TakeTop(int top)
    {
        var taken = new List<KeyValuePair<string, long>>();
        foreach (var key in _bytes.Keys)
        {
            if (_bytes.TryRemove(key, out var bytes))
            {
                taken.Add(new(key, bytes));
            }
        }

        return string.Join(' ', taken.OrderByDescending(kv => kv.Value).Take(top)
            .Select(kv => FormattableString.Invariant($"{kv.Key.Replace(' ', '_')}={kv.Value >> 10}KB")));
    }
}
