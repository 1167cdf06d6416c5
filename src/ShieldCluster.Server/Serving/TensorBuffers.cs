using System.Collections.Concurrent;

namespace ShieldCluster.Server.Serving;

/// <summary>
/// Re-used float arrays for large input tensors, by exact length: every request to a model carries
/// the same number of values per item, so a 3x224x224 image (602 KB) gets back an array of exactly
/// its size instead of a fresh large-object allocation per request. A tensor is handed back only
/// after its request was answered successfully (<see cref="InferRequest.ReleaseTensors"/>); one whose
/// request failed, or that anything could still read, is left to the garbage collector. At most
/// <see cref="MaxPerLength"/> arrays are kept per length, of at most <see cref="MaxLengths"/> lengths.
/// </summary>
public static class TensorBuffers
{
    /// <summary>Arrays shorter than this (64 KB of floats) are ordinary allocations.</summary>
    public const int MinLength = 16_384;

    /// <summary>Arrays kept per length.</summary>
    public const int MaxPerLength = 512;

    /// <summary>Distinct lengths kept.</summary>
    public const int MaxLengths = 16;

    /// <summary>An array of exactly <paramref name="length"/> values (contents undefined for large ones).</summary>
    public static float[] Rent(int length) => Pool<float>.Rent(length);

    /// <summary>Keeps <paramref name="array"/> for a later <see cref="Rent"/>; the caller must not use it again.</summary>
    public static void Return(float[]? array) => Pool<float>.Return(array);

    /// <summary>An array of exactly <paramref name="length"/> half-precision values (an FP16 tensor as it came).</summary>
    public static Half[] RentHalves(int length) => Pool<Half>.Rent(length);

    /// <summary>Keeps <paramref name="array"/> for a later <see cref="RentHalves"/>; the caller must not use it again.</summary>
    public static void Return(Half[]? array) => Pool<Half>.Return(array);

    private static class Pool<T>
    {
        private static readonly ConcurrentDictionary<int, ConcurrentQueue<T[]>> Free = new();

        public static T[] Rent(int length) =>
            length >= MinLength && Free.TryGetValue(length, out var queue) && queue.TryDequeue(out var array) ? array : new T[length];

        public static void Return(T[]? array)
        {
            if (array is null || array.Length < MinLength)
            {
                return;
            }

            if (!Free.TryGetValue(array.Length, out var queue))
            {
                if (Free.Count >= MaxLengths)
                {
                    return;
                }

                queue = Free.GetOrAdd(array.Length, _ => new ConcurrentQueue<T[]>());
            }

            if (queue.Count < MaxPerLength)
            {
                queue.Enqueue(array);
            }
        }
    }
}
