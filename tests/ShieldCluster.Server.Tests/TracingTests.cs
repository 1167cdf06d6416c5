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
        public List<Activity> Spans { get; } = [];

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
            Activity[] spans;
            lock (server.Spans)
            {
                spans = [.. server.Spans];
            }

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
        lock (server.Spans)
        {
            Assert.DoesNotContain(server.Spans.SelectMany(s => s.TagObjects), t => t.Value?.ToString()?.Contains(ShieldServerFactory.AliceKey, StringComparison.Ordinal) == true);
        }
    }
}
