using System.Numerics;

namespace ShieldCluster.Protection.Detectors;

/// <summary>An entry of a <see cref="LinearProbe"/> table: free or not, and the 32-bit key its home is found from.</summary>
internal interface IProbeEntry
{
    /// <summary>Whether the slot is empty.</summary>
    bool IsFree { get; }

    /// <summary>The 32 bits the entry's home slot is computed from.</summary>
    uint Key { get; }
}

/// <summary>
/// The mechanics of the open-addressing tables behind <see cref="PostingChains{TOwner}"/> and
/// <see cref="PostingBlocks{TOwner}"/> (linear probing, power-of-two sizes, backward-shift deletion)
/// and the sizing of their power-of-two rings. Each table keeps its own entry type, lookup and fill
/// limit; this is what they share.
/// </summary>
internal static class LinearProbe
{
    /// <summary>The key's home slot in a table whose <paramref name="shift"/> is <see cref="Shift"/> of its size: Fibonacci hashing spreads even similar keys.</summary>
    public static int Home(uint key, int shift) => (int)((key * 0x9E3779B1u) >> shift);

    /// <summary>The shift that makes <see cref="Home"/> land in a table of <paramref name="size"/> (a power of two) slots.</summary>
    public static int Shift(int size) => BitOperations.LeadingZeroCount((uint)size) + 1;

    /// <summary>A ring's next size: at least <paramref name="needed"/> and <paramref name="least"/>, at least twice <paramref name="current"/>, a power of two.</summary>
    public static int RingSize(long needed, int current, int least) =>
        checked((int)Math.Max(Math.Max(least, current * 2L), (long)BitOperations.RoundUpToPowerOf2((ulong)needed)));

    /// <summary>
    /// A ring grown by <see cref="RingSize"/> to hold <paramref name="needed"/>, with the live entries
    /// numbered <paramref name="oldest"/> up to (not including) <paramref name="next"/> at the same
    /// numbers (an entry numbered n sits at n mod the ring's size).
    /// </summary>
    public static T[] GrowRing<T>(T[] ring, uint oldest, uint next, long needed, int least)
    {
        var grown = new T[RingSize(needed, ring.Length, least)];
        for (var n = oldest; n != next; n++)
        {
            grown[n & (uint)(grown.Length - 1)] = ring[n & (uint)(ring.Length - 1)];
        }

        return grown;
    }

    /// <summary>Empties slot <paramref name="hole"/>, moving later entries of its probe run back (no tombstones to slow lookups).</summary>
    public static void Remove<T>(T[] table, int hole, int shift)
        where T : struct, IProbeEntry
    {
        var mask = table.Length - 1;
        for (var index = (hole + 1) & mask; !table[index].IsFree; index = (index + 1) & mask)
        {
            // An entry may fill the hole when the hole lies between its home and where it sits.
            if (((index - Home(table[index].Key, shift)) & mask) >= ((index - hole) & mask))
            {
                table[hole] = table[index];
                hole = index;
            }
        }

        table[hole] = default;
    }

    /// <summary>A table of <paramref name="size"/> slots holding every entry of <paramref name="old"/>.</summary>
    public static T[] Rehash<T>(T[] old, int size, int shift)
        where T : struct, IProbeEntry
    {
        var table = new T[size];
        var mask = size - 1;
        foreach (var entry in old)
        {
            if (!entry.IsFree)
            {
                var index = Home(entry.Key, shift);
                while (!table[index].IsFree)
                {
                    index = (index + 1) & mask;
                }

                table[index] = entry;
            }
        }

        return table;
    }
}
