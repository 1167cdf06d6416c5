namespace ShieldCluster.RedTeam.Attacks;

/// <summary>Ends an attack early: budget spent, client blocked, or the target stopped answering.</summary>
internal sealed class AttackStoppedException : Exception
{
    public AttackStoppedException()
    {
    }

    public AttackStoppedException(string message)
        : base(message)
    {
    }

    public AttackStoppedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
