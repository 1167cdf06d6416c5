namespace ShieldCluster.Protection.Features;

/// <summary>
/// The compact trace of one queried item kept in a client's history instead of the raw tensor:
/// a 64-bit digest of the exact values (to recognise identical resends) and a small thumbnail of
/// the input quantised to bytes (for distance-based detectors).
/// </summary>
public readonly record struct QueryFeatures(ulong Digest, byte[] Thumbnail);
