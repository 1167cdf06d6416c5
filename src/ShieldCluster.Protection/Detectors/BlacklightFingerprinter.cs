using System.IO.Hashing;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
    private readonly WindowHash _windowHash;
    private readonly uint _reciprocal;
    private readonly bool _vectorQuantise;

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
        _windowHash = new WindowHash(_seed);
        for (var sum = 0; sum < _quantise.Length; sum++)
        {
            _quantise[sum] = (byte)((sum % 255) / options.Quantum);
        }

        // Dividing 0-254 by the quantum: (v x ceil(65536 / quantum)) >> 16 is exact for a quantum
        // up to 257 (the error stays under 254 / 65536); checked here against the table all the same.
        _reciprocal = (uint)((65536 + options.Quantum - 1) / options.Quantum);
        _vectorQuantise = Vector256.IsHardwareAccelerated;
        for (var sum = 0; sum < _quantise.Length; sum++)
        {
            // As the vectors compute it: 255 subtracted while the sum is at least 255 (twice for 510).
            var reduced = (uint)sum;
            reduced -= reduced >= 255 ? 255u : 0u;
            reduced -= reduced >= 255 ? 255u : 0u;
            _vectorQuantise &= (reduced * _reciprocal) >> 16 == _quantise[sum];
        }
    }

    /// <summary>
    /// Each value plus its position's salt, mod 255, over the quantum: the table's values, vectorised
    /// (32 values a step, the division a multiply and a shift), the table for the values past the last whole vector.
    /// </summary>
    private void Quantise(ReadOnlySpan<byte> raw, Span<byte> quantised)
    {
        var i = 0;
        if (_vectorQuantise)
        {
            var limit = Vector256.Create((ushort)255);
            var reciprocal = Vector256.Create(_reciprocal);
            for (; i <= raw.Length - Vector256<byte>.Count; i += Vector256<byte>.Count)
            {
                var (rawLow, rawHigh) = Vector256.Widen(Vector256.Create(raw.Slice(i, Vector256<byte>.Count)));
                var (saltLow, saltHigh) = Vector256.Widen(Vector256.Create(_salt.AsSpan(i, Vector256<byte>.Count)));
                var low = Quotient(Mod255(rawLow + saltLow, limit), reciprocal);
                var high = Quotient(Mod255(rawHigh + saltHigh, limit), reciprocal);
                Vector256.Narrow(low, high).CopyTo(quantised[i..]);
            }
        }

        for (; i < raw.Length; i++)
        {
            quantised[i] = _quantise[raw[i] + _salt[i]];
        }
    }

    /// <summary>A sum of 0-510 mod 255: 255 subtracted while it is at least 255 (510 needs it twice).</summary>
    private static Vector256<ushort> Mod255(Vector256<ushort> sum, Vector256<ushort> limit)
    {
        sum -= Vector256.GreaterThanOrEqual(sum, limit) & limit;
        return sum - (Vector256.GreaterThanOrEqual(sum, limit) & limit);
    }

    private static Vector256<ushort> Quotient(Vector256<ushort> value, Vector256<uint> reciprocal)
    {
        var (low, high) = Vector256.Widen(value);
        return Vector256.Narrow(Vector256.ShiftRightLogical(low * reciprocal, 16), Vector256.ShiftRightLogical(high * reciprocal, 16));
    }

    /// <summary>Values in one item.</summary>
    public int ItemLength { get; }

    /// <summary>The fingerprint of one item whose values lie in [<paramref name="min"/>, <paramref name="max"/>]: distinct hashes, largest first.</summary>
    [SkipLocalsInit] // Every stack buffer is written before it is read (the bitmap cleared).
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
        Quantise(raw, quantised);

        // The windows to hash (flat ones skipped) as a bitmap, so that their count, and with it the
        // threshold of the largest, is known before any is hashed.
        var window = _options.Window;
        var windows = item.Length - window + 1;
        // One bit per value: the pairs of the last windows lie past the windows' bits while they are spread.
        Span<ulong> hashed = item.Length <= 4096 ? stackalloc ulong[(item.Length + 63) >> 6] : new ulong[(item.Length + 63) >> 6];
        var n = WindowsToHash(raw, window, windows, _options.SkipFlatWindows, hashed);

        // The hashes at or above the threshold are the candidates (each written, counted only when it
        // passes: no branch on ~1 hash in 20). Nearly always they hold Keep distinct hashes, and then
        // their largest are the answer, as in Largest (the same threshold, so the same answer); else
        // every hash is taken again and Largest lowers the threshold over them.
        var keep = _options.Keep;
        var target = Target(keep);
        var threshold = Threshold(n, target);
        Span<ulong> hashes = windows <= 4096 ? stackalloc ulong[windows] : new ulong[windows];
        var passed = HashWindows(quantised, hashed, threshold, hashes);
        if (TryLargest(hashes[..passed], keep, complete: threshold == 0, out var kept))
        {
            return kept;
        }

        return Largest(hashes[..HashWindows(quantised, hashed, 0, hashes)], keep, 2 * target);
    }

    /// <summary>The hashes of the windows marked in <paramref name="hashed"/> at or above <paramref name="threshold"/>, into <paramref name="hashes"/>: how many.</summary>
    private int HashWindows(ReadOnlySpan<byte> quantised, ReadOnlySpan<ulong> hashed, ulong threshold, Span<ulong> hashes)
    {
        var window = _options.Window;
        var fast = window is >= 17 and <= 32 && BitConverter.IsLittleEndian;
        var windowHash = _windowHash;
        ref var first = ref MemoryMarshal.GetReference(quantised);
        var passed = 0;
        for (var w = 0; w < hashed.Length; w++)
        {
            for (var bits = hashed[w]; bits != 0; bits &= bits - 1)
            {
                // i + window <= item.Length: the window lies in quantised; passed <= hashes marked so far < hashes.Length.
                var i = (w << 6) + BitOperations.TrailingZeroCount(bits);
                var hash = fast ? windowHash.Hash17To32(ref Unsafe.Add(ref first, i), window) : XxHash3.HashToUInt64(quantised.Slice(i, window), _seed);
                hashes[passed] = hash;
                passed += hash >= threshold ? 1 : 0;
            }
        }

        return passed;
    }

    /// <summary>
    /// Marks in <paramref name="hashed"/> (one bit per window, from the lowest) the windows to hash:
    /// all of them, or with <paramref name="skipFlat"/> those whose raw values are not all equal. Returns their number.
    /// </summary>
    /// <remarks>
    /// A window is flat when none of its <paramref name="window"/> - 1 neighbouring pairs differ: the
    /// bitmap of differing pairs (vectorised: 32 pairs a compare) is spread over each window by ORing
    /// it with itself shifted by 1, 2, 4, ... positions, each step doubling the span a bit covers.
    /// </remarks>
    internal static int WindowsToHash(ReadOnlySpan<byte> raw, int window, int windows, bool skipFlat, Span<ulong> hashed)
    {
        hashed.Clear();
        if (!skipFlat)
        {
            for (var i = 0; i < windows; i++)
            {
                hashed[i >> 6] |= 1UL << i;
            }

            return windows;
        }

        if (window == 1)
        {
            // A window of one value holds no pair to differ: flat.
            return 0;
        }

        // Bit j: raw[j] differs from raw[j + 1], for every pair some window holds.
        var pairs = windows + window - 2;
        var j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j <= pairs - 32; j += 32)
            {
                var equal = Vector256.Equals(Vector256.Create(raw.Slice(j, 32)), Vector256.Create(raw.Slice(j + 1, 32))).ExtractMostSignificantBits();
                SetBits(hashed, j, ~equal);
            }
        }

        for (; j < pairs; j++)
        {
            if (raw[j] != raw[j + 1])
            {
                hashed[j >> 6] |= 1UL << j;
            }
        }

        // Spread: once a step has made each bit i cover pairs i .. i + span - 1, ORing in the bitmap
        // shifted down by up to span positions extends that by as many.
        for (var span = 1; span < window - 1;)
        {
            var step = Math.Min(span, window - 1 - span);
            OrShiftedDown(hashed, step);
            span += step;
        }

        // Window i is to be hashed when bit i is set; the bits from 'windows' up were pairs only.
        var total = 0;
        for (var w = 0; w < hashed.Length; w++)
        {
            var valid = windows - (w << 6);
            if (valid < 64)
            {
                hashed[w] &= valid <= 0 ? 0 : (1UL << valid) - 1;
            }

            total += BitOperations.PopCount(hashed[w]);
        }

        return total;
    }

    /// <summary>Sets the 32 bits of <paramref name="bits"/> in the bitmap from position <paramref name="at"/>.</summary>
    private static void SetBits(Span<ulong> bitmap, int at, uint bits)
    {
        var word = at >> 6;
        var offset = at & 63;
        bitmap[word] |= (ulong)bits << offset;
        if (offset > 32)
        {
            bitmap[word + 1] |= (ulong)bits >> (64 - offset);
        }
    }

    /// <summary>Each bit i ORed with bit i + <paramref name="shift"/> (bits past the end read as 0), from the lowest word up: each reads only bits at or above its own, not yet changed.</summary>
    private static void OrShiftedDown(Span<ulong> bitmap, int shift)
    {
        var words = shift >> 6;
        var bits = shift & 63;
        for (var w = 0; w < bitmap.Length; w++)
        {
            var low = w + words < bitmap.Length ? bitmap[w + words] : 0;
            var high = w + words + 1 < bitmap.Length ? bitmap[w + words + 1] : 0;
            bitmap[w] |= bits == 0 ? low : (low >> bits) | (high << (64 - bits));
        }
    }

    /// <summary>
    /// The threshold that about <paramref name="target"/> of <paramref name="n"/> uniform hashes pass
    /// (0, all of them, when there are no more than that).
    /// </summary>
    private static ulong Threshold(int n, int target) =>
        n <= target ? 0 : ulong.MaxValue - ((ulong.MaxValue / (ulong)n) * (ulong)target);

    /// <summary>
    /// Sorts <paramref name="candidates"/> and, when they hold at least <paramref name="keep"/>
    /// distinct values or are <paramref name="complete"/> (every hash), gives their largest distinct
    /// ones (at most <paramref name="keep"/>, largest first).
    /// </summary>
    private static bool TryLargest(Span<ulong> candidates, int keep, bool complete, out ulong[] kept)
    {
        candidates.Sort();
        var passed = candidates.Length;
        var distinct = 0;
        for (var i = passed - 1; i >= 0 && distinct < keep; i--)
        {
            distinct += i == passed - 1 || candidates[i] != candidates[i + 1] ? 1 : 0;
        }

        if (distinct < keep && !complete)
        {
            kept = [];
            return false;
        }

        kept = new ulong[distinct];
        var next = 0;
        for (var i = passed - 1; i >= 0 && next < distinct; i--)
        {
            if (i == passed - 1 || candidates[i] != candidates[i + 1])
            {
                kept[next++] = candidates[i];
            }
        }

        return true;
    }

    /// <summary>
    /// The <paramref name="keep"/> largest distinct values of <paramref name="hashes"/> (reordered),
    /// largest first: fewer if fewer are distinct.
    /// </summary>
    /// <remarks>
    /// Hashes are uniform, so a threshold passing about keep + keep / 4 + 8 of them leaves the
    /// candidates; only those are sorted (no heap kept over every window). If fewer than
    /// <paramref name="keep"/> distinct values pass, the threshold is lowered (twice as many expected)
    /// until they do or every hash passes: whatever the threshold, every value below it is below
    /// every candidate, so the answer is exact.
    /// </remarks>
    internal static ulong[] Largest(Span<ulong> hashes, int keep) => Largest(hashes, keep, Target(keep));

    /// <summary>How many hashes the first threshold lets pass for <paramref name="keep"/> to be kept: a margin for repeats.</summary>
    private static int Target(int keep) => keep + (keep / 4) + 8;

    /// <summary>As <see cref="Largest(Span{ulong}, int)"/>, the first threshold passing about <paramref name="target"/> hashes.</summary>
    private static ulong[] Largest(Span<ulong> hashes, int keep, int target)
    {
        var n = hashes.Length;
        while (true)
        {
            var threshold = Threshold(n, target);
            var passed = 0;
            for (var i = 0; i < n; i++)
            {
                // A swap either way (no branch to mispredict on ~1 hash in 10): the values stay, and
                // those before 'passed' are at or above the threshold.
                var hash = hashes[i];
                hashes[i] = hashes[passed];
                hashes[passed] = hash;
                passed += hash >= threshold ? 1 : 0;
            }

            if (TryLargest(hashes[..passed], keep, complete: threshold == 0, out var kept))
            {
                return kept;
            }

            target = (int)Math.Min(n, 2L * target);
        }
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
}
