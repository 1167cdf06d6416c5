namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// How a detector keeps a client's recent inputs: copied into arrays of its own, one per slot,
/// reused while the inputs keep their length. Kept by reference, the request's arrays would each
/// outlive a collection or two and be copied from generation to generation on the way.
/// </summary>
internal static class KeptInputs
{
    /// <summary>Copies <paramref name="input"/> into <paramref name="slot"/>'s array (a new one when it is missing or of another length).</summary>
    public static void Keep(ref byte[]? slot, ReadOnlySpan<byte> input)
    {
        if (slot is null || slot.Length != input.Length)
        {
            slot = new byte[input.Length];
        }

        input.CopyTo(slot);
    }
}
