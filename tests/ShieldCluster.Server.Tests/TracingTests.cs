using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.TestHost;
using Microsoft.AspNetCore.Hosting;
using OpenTelemetry.Trace;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

/// <summary>With traces on, an inference request is one trace: the HTTP span and the grain calls it made.</summary>
public class TracingTests
{
    private sealed class Factory : ShieldServerFactory
    {
        public LockedSpans Spans { get; } = new();

        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
        {
            ["Shield:Telemetry:Traces"] = "true",
        };

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(Spans)));
        }
    }

    [Fact]
    public async Task InferenceRequest_IsOneTrace_FromHttpThroughTheGrainCalls_WithoutKeys()
    {
        await using var server = new Factory();
        var response = await PostAsync(server.ClientWithKey(ShieldServerFactory.AliceKey), Json(0, 1));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Other test servers in this process may be tracing too (the sources are process-wide):
        // the request's trace is the one whose HTTP span has these grain calls under it.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        Activity? http = null;
        List<Activity> grainCalls = [];
        while (DateTime.UtcNow < deadline && http is null)
        {
            var spans = server.Spans.Snapshot();
            foreach (var candidate in spans.Where(s => s.Kind == ActivityKind.Server && s.DisplayName.Contains("infer", StringComparison.Ordinal)))
            {
                var calls = spans.Where(s => s.TraceId == candidate.TraceId && s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal)).ToList();
                if (calls.Any(s => s.DisplayName.Contains("IClientGrain", StringComparison.Ordinal)) && calls.Any(s => s.DisplayName.Contains("IInferenceGrain", StringComparison.Ordinal)))
                {
                    (http, grainCalls) = (candidate, calls);
                }
            }

            await Task.Delay(50);
        }

        Assert.NotNull(http);
        Assert.Contains(grainCalls, s => s.DisplayName.Contains("IClientGrain", StringComparison.Ordinal));
        Assert.Contains(grainCalls, s => s.DisplayName.Contains("IInferenceGrain", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Spans.Snapshot().SelectMany(s => s.TagObjects), t => t.Value?.ToString()?.Contains(ShieldServerFactory.AliceKey, StringComparison.Ordinal) == true);
    }

    /// <summary>
    /// The exporter's collection. OpenTelemetry's in-memory exporter adds to it from the processor's
    /// thread under a lock of its own, not this list's: every member locks the list, and the test reads
    /// snapshots. (A plain list locked only by the reader threw "collection was modified" in CI.)
    /// </summary>
    private sealed class LockedSpans : ICollection<Activity>
    {
        private readonly List<Activity> _items = [];

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public Activity[] Snapshot()
        {
            lock (_items)
            {
                return [.. _items];
            }
        }

        public void Add(Activity item)
        {
            lock (_items)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                _items.Clear();
            }
        }

        public bool Contains(Activity item)
        {
            lock (_items)
            {
                return _items.Contains(item);
            }
        }

        public void CopyTo(Activity[] array, int arrayIndex)
        {
            lock (_items)
            {
                _items.CopyTo(array, arrayIndex);
            }
        }

        public bool Remove(Activity item)
        {
            lock (_items)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<Activity> GetEnumerator() => ((IEnumerable<Activity>)Snapshot()).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
