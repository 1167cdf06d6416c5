using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// A hint to the CPU to start loading the cache line of a location that will be read soon. The
/// indexes' tables are far larger than the caches (a cross-client shard is ~14 MB, a client's
/// Blacklight index ~2 MB, and a silo holds many), so each hash's probe is a cache miss; a query's
/// hashes are independent, so their lines are asked for together first and the misses overlap
/// instead of following one another. Only a hint: it never faults and changes no result, and a
/// stale address (an array the garbage collector has since moved) costs nothing but the wasted load.
/// </summary>
internal static class Prefetch
{
    /// <summary>Starts loading the cache line holding <paramref name="location"/> (a no-op where the CPU has no prefetch instruction .NET exposes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Line<T>(ref readonly T location)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.AsRef(in location)));
        }
    }
}
