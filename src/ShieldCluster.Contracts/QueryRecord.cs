namespace ShieldCluster.Contracts;

/// <summary>A served request as the client's history keeps it: compact features, never raw tensors.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.QueryRecord")]
public sealed record QueryRecord(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Model,
    [property: Id(2)] string Version,
    [property: Id(3)] IReadOnlyList<QueryItem> Items);

/// <summary>One item of a served request.</summary>
/// <param name="Digest">64-bit hash of the exact input values (identical resends share it).</param>
/// <param name="Label">The predicted class.</param>
/// <param name="Confidence">The predicted class's score.</param>
/// <param name="Thumbnail">The input quantised to bytes and pooled to at most 32x32 (784 bytes for a 28x28 image).</param>
/// <param name="Fingerprint">The salted Blacklight fingerprint (at most Keep hashes, largest first: 25 by default, 50 before), or null when not computed.</param>
/// <param name="SqueezeFlagged">Whether feature squeezing flagged the input as adversarial; null when it did not run.</param>
[GenerateSerializer, Immutable, Alias("ShieldCluster.QueryItem")]
public sealed record QueryItem(
    [property: Id(0)] ulong Digest,
    [property: Id(1)] int Label,
    [property: Id(2)] float Confidence,
    [property: Id(3)] byte[] Thumbnail,
    [property: Id(4)] ulong[]? Fingerprint = null,
    [property: Id(5)] bool? SqueezeFlagged = null);
