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

    /// <summary>
    /// Decided per request by the client's grain: every request of a client's first
    /// <see cref="ProtectionOptions.SqueezingWarmup"/>, every request while the client is not in good
    /// standing (enforcement above ok) or its squeezing window holds
    /// <see cref="ProtectionOptions.SqueezingEscalateFlags"/> flags or more, otherwise a
    /// <see cref="ProtectionOptions.SqueezingSampleRate"/> sample. Single crafted inputs sent from
    /// fresh keys (a transfer attack's usual shape) are all checked; an established high-traffic
    /// client pays for the sample.
    /// </summary>
    Adaptive = 3,
}
