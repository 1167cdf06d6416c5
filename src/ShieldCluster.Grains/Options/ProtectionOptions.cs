using System.ComponentModel.DataAnnotations;
using ShieldCluster.Protection.OutputHardening;

namespace ShieldCluster.Grains.Options;

/// <summary>Protection settings, bound from <c>Shield:Protection</c>.</summary>
public sealed class ProtectionOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Shield:Protection";

    /// <summary>
    /// Default true. False turns off every quota, detector, input filter and output hardening
    /// (identity checks stay): for measuring the unprotected baseline only.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Items kept in each client's query history (oldest dropped first). Default 1,000.</summary>
    [Range(1, 1_000_000)]
    public int HistoryCapacity { get; set; } = 1_000;

    /// <summary>
    /// How often a client grain writes changed usage to storage. Default 1 second: a crash can
    /// over-admit at most this much of a client's traffic.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan StateWriteInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often a client grain writes its changed query history and on deactivation: the segments
    /// of 32 records that changed since the last write (about 1.3 KB per demo-model item), then the
    /// history's head. Default 5 seconds: the history is evidence,
    /// not money, and a crash may lose its last seconds (usage and enforcement are written every
    /// <see cref="StateWriteInterval"/>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan HistoryWriteInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long stored query features (the detectors' history) are kept: records older than this are
    /// dropped, and with Redis a client's stored history expires this long after its last write.
    /// Default 7 days.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan HistoryRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// What happens to a request whose client state cannot be loaded (the store is down and the
    /// client's grain is not active). Default <see cref="StateUnavailableAction.Refuse"/> (503, fail closed).
    /// </summary>
    public StateUnavailableAction StateUnavailable { get; set; } = StateUnavailableAction.Refuse;

    /// <summary>
    /// How outputs are hardened for degraded and throttled clients. Default label-only (one-hot of
    /// the predicted class): score-based extraction and inference attacks learn nothing beyond the label.
    /// </summary>
    public HardeningMode DegradedOutputs { get; set; } = HardeningMode.LabelOnly;

    /// <summary>Decimals kept when <see cref="DegradedOutputs"/> is <c>Round</c>. Default 1.</summary>
    [Range(0, 6)]
    public int DegradedDecimals { get; set; } = 1;

    /// <summary>
    /// When feature squeezing runs; where it runs, the request's items are batched with their
    /// squeezed copies in the same ONNX Runtime call. Default <see cref="SqueezingPolicy.Adaptive"/>:
    /// a squeezed copy costs a second model row, about a third of an unprotected request's CPU on the
    /// demo model, so an established client in good standing is sampled.
    /// </summary>
    public SqueezingPolicy Squeezing { get; set; } = SqueezingPolicy.Adaptive;

    /// <summary>Under <see cref="SqueezingPolicy.Adaptive"/>, a client's first requests that are all squeezed. Default 256.</summary>
    [Range(0, int.MaxValue)]
    public int SqueezingWarmup { get; set; } = 256;

    /// <summary>
    /// Under <see cref="SqueezingPolicy.Adaptive"/>, every request is squeezed while the client's
    /// squeezing window holds at least this many flags. Default 6: an honest client expects 2.3 of 50
    /// at the calibrated false-positive rate (4.5%) and holds 6 or more about 2% of the time (4 or
    /// more: 19%, each time paying for every request); far below the alarm (15).
    /// </summary>
    [Range(1, int.MaxValue)]
    public int SqueezingEscalateFlags { get; set; } = 6;

    /// <summary>What happens to a flagged input. Default <see cref="FlaggedInputAction.Record"/>: honest clients see no change.</summary>
    public FlaggedInputAction FlaggedInputs { get; set; } = FlaggedInputAction.Record;

    /// <summary>The share of requests squeezed under <see cref="SqueezingPolicy.Sample"/> (and <see cref="SqueezingPolicy.Adaptive"/>'s sample). Default 0.1.</summary>
    [Range(0.0, 1.0)]
    public double SqueezingSampleRate { get; set; } = 0.1;

    /// <summary>Scores kept when <see cref="DegradedOutputs"/> is <c>TopK</c>. Default 1.</summary>
    [Range(1, 1000)]
    public int DegradedTopK { get; set; } = 1;

    /// <summary>
    /// How long an admission lease lasts: a client in good standing that sends at least
    /// <see cref="LeaseMinRate"/> requests per second is admitted by the front end itself for up to
    /// this long (at most <see cref="LeaseMaxRequests"/> requests), so one heavy client's grain is not
    /// one call per request. What this delays is stated in the README ("Admission leases"): a
    /// detection, block or key rotation reaches a front end holding a lease within this time.
    /// Default 100 ms; zero turns leases off (every request asks the grain).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan AdmissionLease { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The most requests one lease admits. Default 64.</summary>
    [Range(2, 100_000)]
    public int LeaseMaxRequests { get; set; } = 64;

    /// <summary>
    /// The request rate (per second, over the last second) from which a client gets leases; a
    /// lease holds twice what the client sends in <see cref="AdmissionLease"/> at that rate (at 50
    /// per second, 10 requests). Default 50: interactive clients, and clients held to the standard
    /// plan's 20 per second, stay one grain call per request.
    /// </summary>
    [Range(1.0, 1e9)]
    public double LeaseMinRate { get; set; } = 50;

    /// <summary>
    /// How often a front end delivers the records of requests it admitted under leases (one call per
    /// client per interval, however many requests). Default 20 ms.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:01")]
    public TimeSpan LeaseFlushInterval { get; set; } = TimeSpan.FromMilliseconds(20);
}
