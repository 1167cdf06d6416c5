namespace ShieldCluster.Protection.RateLimiting;

/// <summary>The refill rate and capacity of a token bucket.</summary>
/// <param name="RequestsPerSecond">Tokens added per second; must be positive.</param>
/// <param name="Burst">The bucket's capacity: how many requests may arrive at once.</param>
public readonly record struct BucketLimits(double RequestsPerSecond, int Burst);
