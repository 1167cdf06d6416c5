using System.IO.Hashing;
using System.Numerics;
using System.Security.Cryptography;

namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// Computes Blacklight fingerprints: a query's set of salted, quantised window hashes, so that
/// near-identical queries (the perturbations of a black-box attack) share most of them.
/// </summary>
/// <remarks>
/// Blacklight (H. Li, S. Shan, E. Wenger, J. Zhang, H. Zheng, B. Y. Zhao, "Blacklight: Scalable
/// Defense for Neural Networks against Query-Based Black-Box Attacks", USENIX Security 2022,
/// arXiv 2006.14042): scale to 0-255, add a secret per-deployment salt (mod 255), quantise to
/// multiples of <see cref="BlacklightOptions.Quantum"/>, slide a window of
/// <see cref="BlacklightOptions.Window"/> values with step 1, hash each window, drop duplicates,
/// keep the <see cref="BlacklightOptions.Keep"/> largest hashes. SHA-256 is replaced by XxHash3 with
/// a seed derived from the secret: with the salt secret, any fast hash does the same job, and it
/// matters at ~765 windows per 784-value query. The secret must stay secret: whoever knows it can
/// craft queries whose fingerprints do not overlap.
/// </remarks>
public sealed class BlacklightFingerprinter
{
    private readonly BlacklightOptions _options;
    private readonly byte[] _salt;

    // (value + salt) -> ((value + salt) mod 255) / quantum for every sum 0-510: a lookup, not two
    // integer divisions, per value.
    private readonly byte[] _quantise = new byte[511];
    private readonly long _seed;

    /// <summary>Creates a fingerprinter for items of <paramref name="itemLength"/> values.</summary>
    /// <param name="options">Window, keep and quantum.</param>
    /// <param name="secret">The deployment's secret (at least 16 bytes).</param>
    /// <param name="itemLength">Values in one item.</param>
    public BlacklightFingerprinter(BlacklightOptions options, ReadOnlySpan<byte> secret, int itemLength)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (secret.Length < 16)
        {
            throw new ArgumentException("the secret must be at least 16 bytes", nameof(secret));
        }

        if (options.Window < 1 || options.Keep < 1 || options.Quantum is < 1 or > 255 || itemLength < options.Window)
        {
            throw new ArgumentException("Blacklight options out of range for this input", nameof(options));
        }

        _options = options;
        // Per-position salt and hash seed, derived from the secret so every silo agrees.
        _salt = Salt(SHA256.HashData(secret), itemLength);
        _seed = BitConverter.ToInt64(HKDF.Expand(HashAlgorithmName.SHA256, SHA256.HashData(secret), 8, "blacklight-seed"u8.ToArray()));
        ItemLength = itemLength;
        for (var sum = 0; sum < _quantise.Length; sum++)
        {
            _quantise[sum] = (byte)((sum % 255) / options.Quantum);
        }
    }

    /// <summary>Values in one item.</summary>
    public int ItemLength { get; }

    /// <summary>The fingerprint of one item whose values lie in [<paramref name="min"/>, <paramref name="max"/>]: distinct hashes, largest first.</summary>
    public ulong[] Fingerprint(ReadOnlySpan<float> item, float min, float max)
    {
        if (item.Length != ItemLength)
        {
            throw new ArgumentException($"expected {ItemLength} values, got {item.Length}", nameof(item));
        }

        var scale = max > min ? 255f / (max - min) : 0f;
        Span<byte> quantised = item.Length <= 4096 ? stackalloc byte[item.Length] : new byte[item.Length];
        Span<byte> raw = item.Length <= 4096 ? stackalloc byte[item.Length] : new byte[item.Length];
        Scale(item, min, scale, raw);
        for (var i = 0; i < item.Length; i++)
        {
            quantised[i] = _quantise[raw[i] + _salt[i]];
        }

        // The largest distinct hashes, kept in a min-heap of Keep entries: no list of every window's
        // hash and no sort of it.
        var window = _options.Window;
        var windows = item.Length - window + 1;
        var keep = _options.Keep;
        Span<ulong> heap = keep <= 512 ? stackalloc ulong[keep] : new ulong[keep];
        var size = 0;
        // The first position at or after i whose value differs from the next one (the last position
        // if none does): the window at i is flat exactly when that is past the window's last pair.
        var change = -1;
        for (var i = 0; i < windows; i++)
        {
            if (_options.SkipFlatWindows)
            {
                if (change < i)
                {
                    change = i;
                    while (change < item.Length - 1 && raw[change] == raw[change + 1])
                    {
                        change++;
                    }
                }

                if (change >= i + window - 1)
                {
                    continue;
                }
            }

            var hash = XxHash3.HashToUInt64(quantised.Slice(i, window), _seed);
            if ((size == keep && hash <= heap[0]) || heap[..size].Contains(hash))
            {
                continue;
            }

            if (size < keep)
            {
                heap[size] = hash;
                SiftUp(heap, size++);
            }
            else
            {
                heap[0] = hash;
                SiftDown(heap[..size], 0);
            }
        }

        var kept = heap[..size].ToArray();
        Array.Sort(kept);
        Array.Reverse(kept);
        return kept;
    }

    /// <summary>
    /// Each value scaled from [min, min + 255 / <paramref name="scale"/>] to 0-255, clamped and
    /// rounded to even; vectorised, with the scalar definition for the values past the last whole vector.
    /// </summary>
    private static void Scale(ReadOnlySpan<float> item, float min, float scale, Span<byte> raw)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // Four float vectors narrow to one byte vector.
            var count = Vector<float>.Count;
            for (; i <= item.Length - (4 * count); i += 4 * count)
            {
                var low = Vector.Narrow(Scale(item.Slice(i, count), min, scale), Scale(item.Slice(i + count, count), min, scale));
                var high = Vector.Narrow(Scale(item.Slice(i + (2 * count), count), min, scale), Scale(item.Slice(i + (3 * count), count), min, scale));
                Vector.AsVectorByte(Vector.Narrow(low, high)).CopyTo(raw[i..]);
            }
        }

        for (; i < item.Length; i++)
        {
            raw[i] = (byte)(int)MathF.Round(Math.Clamp((item[i] - min) * scale, 0f, 255f));
        }
    }

    private static Vector<int> Scale(ReadOnlySpan<float> values, float min, float scale)
    {
        var scaled = (new Vector<float>(values) - new Vector<float>(min)) * scale;
        return Vector.ConvertToInt32(Vector.Round(Vector.Min(Vector.Max(scaled, Vector<float>.Zero), new Vector<float>(255f))));
    }

    /// <summary>
    /// One salt byte per position. HKDF gives at most 255 hash lengths (8,160 bytes) per expansion,
    /// so longer items take further blocks, each expanded with its index in the info.
    /// </summary>
    private static byte[] Salt(byte[] key, int length)
    {
        const int Block = 255 * 32;
        var salt = new byte[length];
        for (var (offset, index) = (0, 0); offset < length; offset += Block, index++)
        {
            var info = index == 0 ? "blacklight-salt"u8.ToArray() : System.Text.Encoding.ASCII.GetBytes($"blacklight-salt-{index}");
            HKDF.Expand(HashAlgorithmName.SHA256, key, salt.AsSpan(offset, Math.Min(Block, length - offset)), info);
        }

        return salt;
    }

    private static void SiftUp(Span<ulong> heap, int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (heap[parent] <= heap[i])
            {
                return;
            }

            (heap[parent], heap[i]) = (heap[i], heap[parent]);
            i = parent;
        }
    }

    private static void SiftDown(Span<ulong> heap, int i)
    {
        while (true)
        {
            var smallest = i;
            var left = (2 * i) + 1;
            var right = left + 1;
            if (left < heap.Length && heap[left] < heap[smallest])
            {
                smallest = left;
            }

            if (right < heap.Length && heap[right] < heap[smallest])
            {
                smallest = right;
            }

            if (smallest == i)
            {
                return;
            }

            (heap[smallest], heap[i]) = (heap[i], heap[smallest]);
            i = smallest;
        }
    }
}
