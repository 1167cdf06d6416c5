namespace ShieldCluster.RedTeam.Target;

/// <summary>The target cannot be used: down, wrong URL, wrong admin key or unknown plan.</summary>
public sealed class TargetUnreachableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TargetUnreachableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public TargetUnreachableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public TargetUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
