namespace ShieldCluster.RedTeam.Evaluation;

/// <summary>Deterministic random streams derived from one seed and a purpose (FNV-1a, stable across runs and machines).</summary>
public static class SeededRandom
{
    /// <summary>A <see cref="Random"/> for <paramref name="purpose"/> under <paramref name="seed"/>.</summary>
    public static Random Create(int seed, string purpose)
    {
        var hash = 2166136261u ^ (uint)seed;
        hash *= 16777619u;
        foreach (var c in purpose)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return new Random((int)(hash & 0x7fffffff));
    }

    /// <summary>A standard normal draw (Box–Muller).</summary>
    public static float NextGaussian(this Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
