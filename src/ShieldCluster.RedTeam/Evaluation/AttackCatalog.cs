using ShieldCluster.RedTeam.Attacks;
using ShieldCluster.RedTeam.Substitute;

namespace ShieldCluster.RedTeam.Evaluation;

/// <summary>The attacks by command-line name, in the order they run (Knockoff before the transfer attacks that use its substitute).</summary>
public static class AttackCatalog
{
    /// <summary>Honest traffic's name in <see cref="Names"/>.</summary>
    public const string Honest = "honest";

    /// <summary>Every selectable name, in run order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["knockoff", "transfer", "jbda", "simba", "square", "hsj", Honest];

    /// <summary>
    /// The attacks for <paramref name="names"/> at <paramref name="scale"/>, in run order;
    /// <paramref name="preferredSubstitute"/> supplies the transfer attacks' substitute when one exists.
    /// </summary>
    public static IReadOnlyList<IAttack> Create(IEnumerable<string> names, AttackScale scale, Func<ISubstituteModel?>? preferredSubstitute = null)
    {
        var chosen = names.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var unknown = chosen.Where(n => !Names.Contains(n, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"unknown attack(s): {string.Join(", ", unknown)}; known: {string.Join(", ", Names)}", nameof(names));
        }

        var attacks = new List<IAttack>();
        foreach (var name in Names.Where(chosen.Contains))
        {
            switch (name)
            {
                case "knockoff":
                    attacks.Add(new KnockoffAttack(KnockoffOptions.For(scale)));
                    break;
                case "transfer":
                    attacks.Add(new TransferAttack(TransferMethod.Fgsm, TransferOptions.For(scale), preferredSubstitute));
                    attacks.Add(new TransferAttack(TransferMethod.Pgd, TransferOptions.For(scale), preferredSubstitute));
                    break;
                case "jbda":
                    attacks.Add(new JbdaAttack(JbdaOptions.For(scale)));
                    break;
                case "simba":
                    attacks.Add(new SimBaAttack(SimBaOptions.For(scale)));
                    break;
                case "square":
                    attacks.Add(new SquareAttack(SquareOptions.For(scale)));
                    break;
                case "hsj":
                    attacks.Add(new HopSkipJumpAttack(HopSkipJumpOptions.For(scale)));
                    break;
                default:
                    break;
            }
        }

        return attacks;
    }
}
