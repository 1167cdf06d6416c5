namespace ShieldCluster.RedTeam.Target;

/// <summary>One registered client of the target, with its own key and therefore its own history.</summary>
public interface ITargetClient : ITargetModel
{
    /// <summary>The client id the target knows it by.</summary>
    string ClientId { get; }
}
