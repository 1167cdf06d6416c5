namespace ShieldCluster.Contracts;

/// <summary>The enforcement a client is under.</summary>
[GenerateSerializer, Alias("ShieldCluster.EnforcementState")]
public enum EnforcementState
{
    /// <summary>Served as usual.</summary>
    Ok = 0,

    /// <summary>Served with hardened outputs.</summary>
    Degraded = 1,

    /// <summary>Served at a reduced rate, with hardened outputs.</summary>
    Throttled = 2,

    /// <summary>Refused.</summary>
    Blocked = 3,
}
