namespace ShieldCluster.RedTeam.Attacks;

/// <summary>How a transfer attack crafts its examples on the substitute.</summary>
public enum TransferMethod
{
    /// <summary>Fast gradient sign method: one step of ε·sign(∇ loss).</summary>
    Fgsm,

    /// <summary>Projected gradient descent in the Linf ball, from a random start.</summary>
    Pgd,
}
