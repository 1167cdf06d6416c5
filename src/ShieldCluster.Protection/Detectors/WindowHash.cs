using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// XxHash3 (64 bits) of a 17 to 32 byte window under a fixed seed, bit for bit
/// <see cref="XxHash3.HashToUInt64(ReadOnlySpan{byte}, long)"/> (the tests compare them): XXH3's
/// 17-128 byte path for one pair of 16-byte halves, with the default secret's first four words mixed
/// with the seed once, here, instead of per call. A fingerprint hashes ~765 windows, and the library
/// call's length dispatch and pinning per window cost as much as the hash. Little-endian only.
/// </summary>
internal readonly struct WindowHash(long seed)
{
    private const ulong Prime64First = 0x9E3779B185EBCA87UL;

    // XXH3's default secret, its first four 64-bit words, with the seed added to and subtracted
    // from them as its 17-128 byte path does.
    private readonly ulong _secret0 = 0xBE4BA423396CFEB8UL + (ulong)seed;
    private readonly ulong _secret1 = 0x1CAD21F72C81017CUL - (ulong)seed;
    private readonly ulong _secret2 = 0xDB979083E96DD4DEUL + (ulong)seed;
    private readonly ulong _secret3 = 0x1F67B3B7A4A44072UL - (ulong)seed;

    /// <summary>The hash of <paramref name="window"/> (17 to 32 bytes).</summary>
    public ulong Hash17To32(ReadOnlySpan<byte> window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window.Length, 17, nameof(window));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(window.Length, 32, nameof(window));
        return Hash17To32(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(window), window.Length);
    }

    /// <summary>The hash of the <paramref name="length"/> (17 to 32, unchecked) bytes from <paramref name="source"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Hash17To32(ref byte source, int length)
    {
        var acc = ((ulong)length * Prime64First)
            + Fold(Unsafe.ReadUnaligned<ulong>(ref source) ^ _secret0, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref source, 8)) ^ _secret1)
            + Fold(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref source, length - 16)) ^ _secret2, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref source, length - 8)) ^ _secret3);
        acc ^= acc >> 37;
        acc *= 0x165667919E3779F9UL;
        return acc ^ (acc >> 32);
    }

    /// <summary>XXH3's 128-bit product folded to 64 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Fold(ulong a, ulong b)
    {
        var high = Math.BigMul(a, b, out var low);
        return high ^ low;
    }
}
