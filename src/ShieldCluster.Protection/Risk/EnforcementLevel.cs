namespace ShieldCluster.Protection.Risk;

/// <summary>The enforcement ladder, mildest first.</summary>
public enum EnforcementLevel
{
    /// <summary>Served as usual.</summary>
    Ok = 0,

    /// <summary>Served with hardened outputs.</summary>
    Degraded = 1,

    /// <summary>Served at a reduced request rate, with hardened outputs.</summary>
    Throttled = 2,

    /// <summary>Refused until a time (or until unblocked).</summary>
    Blocked = 3,
}
