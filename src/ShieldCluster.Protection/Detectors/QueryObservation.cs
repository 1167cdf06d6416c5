namespace ShieldCluster.Protection.Detectors;

/// <summary>One served item as the stateful detectors see it.</summary>
/// <param name="Digest">64-bit hash of the exact input values.</param>
/// <param name="Label">The predicted class.</param>
/// <param name="Features">The input quantised to bytes (see <see cref="Features.QueryFeatureExtractor"/>).</param>
/// <param name="Fingerprint">The Blacklight fingerprint, if computed.</param>
/// <param name="SqueezeFlagged">Whether feature squeezing flagged the input; null when it did not run.</param>
public readonly record struct QueryObservation(ulong Digest, int Label, byte[] Features, ulong[]? Fingerprint, bool? SqueezeFlagged = null);
