using Prometheus;

namespace ShieldCluster.Server.Telemetry;

/// <summary>
/// The server's metrics, in a registry of its own (so several servers in one process never mix
/// counts), exported at <c>/metrics</c> in Prometheus' text format. Labels never carry keys or secrets.
/// </summary>
public sealed class ShieldMetrics
{
    /// <summary>Creates the metrics.</summary>
    public ShieldMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        Requests = factory.CreateCounter("shield_inference_requests_total", "Inference requests by model and HTTP status", "model", "status");
        Latency = factory.CreateHistogram("shield_inference_duration_seconds", "Inference request latency, from the request to the answer, for answered (200) requests",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5] });
        BatchSize = factory.CreateHistogram("shield_inference_batch_size", "Items per inference call (squeezed copies not counted)",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        Detections = factory.CreateCounter("shield_detections_total", "Enforcement steps by each detector whose evidence drove them and the state reached", "detector", "state");
        ClientsByEnforcement = factory.CreateGauge("shield_clients_by_enforcement", "Clients in the risk index by enforcement state (ok counts only clients with some risk)", "state");
        ExecutionProvider = factory.CreateGauge("shield_execution_provider", "1 for each loaded model version, labelled with the execution provider it runs on", "model", "version", "provider");
        WebhookDeliveries = factory.CreateCounter("shield_webhook_deliveries_total", "Alert webhook deliveries by outcome (delivered, failed)", "outcome");
        AuthFailures = factory.CreateCounter("shield_auth_failures_total", "Refused authentications by kind (client, admin)", "kind");
        CrossClientSkipped = factory.CreateCounter("shield_crossclient_skipped_total", "Items that skipped the cluster-wide fingerprint check because this silo's queue for it was full");
        CrossClientBatch = factory.CreateHistogram("shield_crossclient_batch_items", "Items per batch of the cluster-wide fingerprint check (one call per shard per batch)",
            new HistogramConfiguration { Buckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });
        ModelCalls = factory.CreateCounter("shield_model_calls_total", "Model calls made by the dynamic batcher, by model and version", "model", "version");
        ModelCallItems = factory.CreateCounter("shield_model_call_items_total", "Items in the dynamic batcher's model calls (squeezed copies not counted): over shield_model_calls_total, how full the batches were", "model", "version");
        LeaseRenewals = factory.CreateCounter("shield_lease_renewals_total", "Admission leases renewed in the background before they ran out, by outcome: 'renewed' (a new lease replaced the old), 'ended' (the grain refused or granted no lease: the lease ended here), 'failed' (the call failed: the lease ran its course)", "outcome");
        Admissions = factory.CreateCounter("shield_admissions_total", "Requests admitted or refused, by where: 'grain' (the client's grain decided) or 'lease' (this front end, under the client's admission lease)", "by");
    }

    /// <summary>Background renewals of admission leases; label outcome.</summary>
    public Counter LeaseRenewals { get; }

    /// <summary>This server's registry.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>The dynamic batcher's model calls; labels model, version (refreshed at each scrape).</summary>
    public Counter ModelCalls { get; }

    /// <summary>Items in those calls; labels model, version (refreshed at each scrape).</summary>
    public Counter ModelCallItems { get; }

    /// <summary>Inference requests; labels model, status.</summary>
    public Counter Requests { get; }

    /// <summary>Inference latency in seconds; label model.</summary>
    public Histogram Latency { get; }

    /// <summary>Batch sizes; label model.</summary>
    public Histogram BatchSize { get; }

    /// <summary>Enforcement steps; labels detector, state.</summary>
    public Counter Detections { get; }

    /// <summary>Clients per enforcement state; label state.</summary>
    public Gauge ClientsByEnforcement { get; }

    /// <summary>Loaded model versions; labels model, version, provider.</summary>
    public Gauge ExecutionProvider { get; }

    /// <summary>Webhook deliveries; label outcome.</summary>
    public Counter WebhookDeliveries { get; }

    /// <summary>Refused authentications; label kind.</summary>
    public Counter AuthFailures { get; }

    /// <summary>Items that skipped the cluster-wide fingerprint check (its queue was full).</summary>
    public Counter CrossClientSkipped { get; }

    /// <summary>Items per batch of the cluster-wide fingerprint check.</summary>
    public Histogram CrossClientBatch { get; }

    /// <summary>Admission decisions by where they were made (grain or lease).</summary>
    public Counter Admissions { get; }
}
