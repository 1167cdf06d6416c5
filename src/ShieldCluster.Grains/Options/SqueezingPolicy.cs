namespace ShieldCluster.Grains.Options;

/// <summary>When feature squeezing runs (on models with a calibrated threshold).</summary>
public enum SqueezingPolicy
{
    /// <summary>On every request.</summary>
    Always = 0,

    /// <summary>On a random sample of requests (<see cref="ProtectionOptions.SqueezingSampleRate"/>).</summary>
    Sample = 1,

    /// <summary>Never.</summary>
    Never = 2,
}
