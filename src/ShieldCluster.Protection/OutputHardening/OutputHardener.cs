using System.Buffers;
using System.Globalization;
using System.Numerics.Tensors;

namespace ShieldCluster.Protection.OutputHardening;

/// <summary>
/// Post-processes the probability vector of ONE item in place so that it carries less information for
/// membership inference, model inversion and model extraction, while the predicted label stays exactly
/// the same.
/// </summary>
/// <remarks>
/// <para>
/// <b>Label guarantee.</b> The predicted label is the argmax with ties resolved to the lowest index, as
/// <see cref="TensorPrimitives.IndexOfMax(ReadOnlySpan{float})"/> computes it. Every operation leaves that
/// index unchanged: <see cref="TopK"/> and <see cref="LabelOnly"/> cannot move it; <see cref="Round"/> and
/// <see cref="Noise"/> can, and repair it by the rules stated on each method.
/// </para>
/// <para>
/// <b>Input.</b> Scores must be probabilities: finite and in [0, 1]; anything else throws
/// <see cref="ArgumentException"/>. Negative zeros are rewritten as positive zeros first, because
/// <c>IndexOfMax</c> ranks +0 above −0 and a stray −0 would otherwise decide a tie among zeros. The
/// output is always finite and in [0, 1], and has the input's length. An empty span is left alone.
/// </para>
/// <para>
/// <b>Sources.</b> The operations mirror the postprocessors of the Adversarial Robustness Toolbox
/// (<c>art/defences/postprocessor</c>: <c>Rounded</c>, <c>ClassLabels</c>, <c>GaussianNoise</c>).
/// Shokri et al., "Membership Inference Attacks Against Machine Learning Models", IEEE S&amp;P 2017,
/// evaluate restricting the output to the top-k classes and coarsening its precision; Fredrikson et al.,
/// "Model Inversion Attacks that Exploit Confidence Information and Basic Countermeasures", CCS 2015,
/// show that rounding confidences blunts inversion. Lee et al., "Defending Against NN Model Stealing
/// Attacks Using Deceptive Perturbations" (reverse sigmoid, arXiv 1806.00054), motivate perturbing the
/// scores without changing the label, as <see cref="Noise"/> does; the reverse sigmoid itself is not
/// implemented here.
/// </para>
/// </remarks>
public static class OutputHardener
{
    /// <summary>Most decimals <see cref="Round"/> accepts; single precision holds no more reliably.</summary>
    public const int MaxDecimals = 6;

    /// <summary>Noise draws tried by <see cref="Noise"/> before it falls back to a swap.</summary>
    public const int MaxNoiseAttempts = 8;

    // Scratch buffers up to this many floats live on the stack; larger ones are rented.
    private const int StackLimit = 256;

    private static ReadOnlySpan<float> PowersOfTen => [1f, 10f, 100f, 1e3f, 1e4f, 1e5f, 1e6f];

    /// <summary>Applies <paramref name="policy"/> to one item's probabilities, in place.</summary>
    /// <param name="probabilities">The item's class probabilities; each finite and in [0, 1].</param>
    /// <param name="policy">The operation and its parameter.</param>
    /// <param name="random">
    /// Source of noise for <see cref="HardeningMode.Noise"/>; ignored by the other modes. When
    /// <see langword="null"/>, <see cref="Random.Shared"/> is used.
    /// </param>
    /// <remarks><see cref="HardeningMode.None"/> neither reads nor checks the values.</remarks>
    public static void Apply(Span<float> probabilities, HardeningPolicy policy, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        switch (policy.Mode)
        {
            case HardeningMode.None:
                return;
            case HardeningMode.Round:
                Round(probabilities, policy.Decimals);
                return;
            case HardeningMode.TopK:
                TopK(probabilities, policy.K);
                return;
            case HardeningMode.LabelOnly:
                LabelOnly(probabilities);
                return;
            case HardeningMode.Noise:
                Noise(probabilities, policy.NoiseScale, random ?? Random.Shared);
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(policy), policy.Mode, "unknown hardening mode");
        }
    }

    /// <summary>
    /// The predicted label: the index of the largest score, the lowest index among equal maxima;
    /// -1 for an empty span.
    /// </summary>
    public static int ArgMax(ReadOnlySpan<float> probabilities) => TensorPrimitives.IndexOfMax(probabilities);

    /// <summary>
    /// Rounds every score to <paramref name="decimals"/> decimals, midpoints away from zero
    /// (<see cref="MidpointRounding.AwayFromZero"/>), then repairs the label.
    /// </summary>
    /// <param name="probabilities">The item's class probabilities, rounded in place.</param>
    /// <param name="decimals">Decimals kept, 0 to <see cref="MaxDecimals"/>.</param>
    /// <remarks>
    /// <para>
    /// Rounding never reorders scores, but it can merge two scores within one rounding unit
    /// <c>u = 10^-decimals</c> into a tie that a lower index then wins. Repair rule, applied only when the
    /// argmax moved from the original top class <c>t</c> to <c>a</c>: if the rounded maximum <c>m</c> is
    /// below 1, score <c>t</c> becomes <c>m + u</c> (one unit above every other score, still on the
    /// rounding grid); if <c>m</c> is already 1, score <c>t</c> becomes 1 and every other score equal to 1
    /// becomes <c>1 − u</c>.
    /// </para>
    /// <para>
    /// Example: <c>[0.334, 0.336, 0.33]</c> to 2 decimals rounds to <c>[0.33, 0.34, 0.33]</c> (no repair);
    /// <c>[0.3449, 0.3451, 0.31]</c> rounds to <c>[0.34, 0.35, 0.31]</c>; <c>[0.3451, 0.3452, 0.3097]</c>
    /// rounds to a tie <c>[0.35, 0.35, 0.31]</c> and is repaired to <c>[0.35, 0.36, 0.31]</c>.
    /// </para>
    /// </remarks>
    public static void Round(Span<float> probabilities, int decimals)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(decimals);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(decimals, MaxDecimals);
        var top = Prepare(probabilities);
        if (top < 0)
        {
            return;
        }

        TensorPrimitives.Round(probabilities, decimals, MidpointRounding.AwayFromZero, probabilities);
        var leader = ArgMax(probabilities);
        if (leader == top)
        {
            return;
        }

        var scale = PowersOfTen[decimals];
        var steps = MathF.Round(probabilities[leader] * scale);
        if (steps < scale)
        {
            probabilities[top] = (steps + 1f) / scale;
            return;
        }

        var belowOne = (scale - 1f) / scale;
        for (var i = 0; i < probabilities.Length; i++)
        {
            if (i != top && probabilities[i] >= 1f)
            {
                probabilities[i] = belowOne;
            }
        }

        probabilities[top] = 1f;
    }

    /// <summary>
    /// Keeps the <paramref name="k"/> largest scores and sets the others to 0; the length is unchanged.
    /// </summary>
    /// <param name="probabilities">The item's class probabilities, filtered in place.</param>
    /// <param name="k">How many scores to keep; at least 1. With <c>k</c> at or above the length nothing changes.</param>
    /// <remarks>
    /// Scores are ranked by value, descending, and equal values by index, ascending (the argmax's own
    /// tie rule); the first <c>k</c> in that order are kept. The top class is first in the order, so it is
    /// always kept with its value unchanged and no repair is needed. The kept scores are not renormalised.
    /// </remarks>
    public static void TopK(Span<float> probabilities, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        Prepare(probabilities);
        var n = probabilities.Length;
        if (k >= n)
        {
            return;
        }

        float[]? rented = null;
        var sorted = n <= StackLimit ? stackalloc float[n] : (rented = ArrayPool<float>.Shared.Rent(n)).AsSpan(0, n);
        try
        {
            probabilities.CopyTo(sorted);
            sorted.Sort();
            var cutoff = sorted[n - k];
            var above = 0;
            for (var i = n - 1; i >= 0 && sorted[i] > cutoff; i--)
            {
                above++;
            }

            var tiedSlots = k - above;
            for (var i = 0; i < n; i++)
            {
                var v = probabilities[i];
                if (v > cutoff)
                {
                    continue;
                }

                if (v == cutoff && tiedSlots > 0)
                {
                    tiedSlots--;
                    continue;
                }

                probabilities[i] = 0f;
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Replaces the scores with the one-hot vector of the predicted label: 1 at the argmax, 0 elsewhere.</summary>
    /// <param name="probabilities">The item's class probabilities, overwritten in place.</param>
    public static void LabelOnly(Span<float> probabilities)
    {
        var top = Prepare(probabilities);
        if (top < 0)
        {
            return;
        }

        probabilities.Clear();
        probabilities[top] = 1f;
    }

    /// <summary>
    /// Adds Gaussian noise of standard deviation <paramref name="scale"/> to every score, clamps the
    /// results at 0 and renormalises them to sum 1 (ART's <c>GaussianNoise</c>), keeping the label.
    /// </summary>
    /// <param name="probabilities">The item's class probabilities, perturbed in place.</param>
    /// <param name="scale">Standard deviation of the noise; finite and non-negative.</param>
    /// <param name="random">Source of the noise; a seeded instance makes the output reproducible.</param>
    /// <remarks>
    /// <para>
    /// Label rule: a draw is accepted only if its argmax is the original top class <c>t</c> and its sum
    /// after clamping is positive and finite. Up to <see cref="MaxNoiseAttempts"/> draws are made from the
    /// original scores. If none is accepted and the last draw could be normalised, the scores at <c>t</c>
    /// and at that draw's argmax swap places (the sum stays 1); if the swap leaves a tie that a lower
    /// index wins, or the last draw summed to 0 or overflowed, the output is the one-hot vector of
    /// <c>t</c>, which reveals nothing beyond the label.
    /// </para>
    /// <para>
    /// Retrying conditions the noise on keeping the label, so accepted draws are not exactly Gaussian
    /// around the original scores; this is the intent, not a flaw.
    /// </para>
    /// </remarks>
    public static void Noise(Span<float> probabilities, float scale, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (!float.IsFinite(scale) || scale < 0f)
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "noise scale must be finite and non-negative");
        }

        var top = Prepare(probabilities);
        if (top < 0)
        {
            return;
        }

        var n = probabilities.Length;
        float[]? rented = null;
        var original = n <= StackLimit ? stackalloc float[n] : (rented = ArrayPool<float>.Shared.Rent(n)).AsSpan(0, n);
        try
        {
            probabilities.CopyTo(original);
            var normalised = false;
            for (var attempt = 0; attempt < MaxNoiseAttempts; attempt++)
            {
                normalised = TryDraw(original, probabilities, scale, random);
                if (normalised && ArgMax(probabilities) == top)
                {
                    return;
                }
            }

            if (normalised)
            {
                var leader = ArgMax(probabilities);
                (probabilities[top], probabilities[leader]) = (probabilities[leader], probabilities[top]);
                if (ArgMax(probabilities) == top)
                {
                    return;
                }
            }

            probabilities.Clear();
            probabilities[top] = 1f;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    private static bool TryDraw(ReadOnlySpan<float> original, Span<float> destination, float scale, Random random)
    {
        for (var i = 0; i < original.Length; i++)
        {
            destination[i] = MathF.Max(0f, original[i] + (scale * Gaussian(random)));
        }

        var sum = TensorPrimitives.Sum(destination);
        if (!(sum > 0f) || !float.IsFinite(sum))
        {
            return false;
        }

        // Each clamped score is at most the sum, so every quotient lies in [0, 1].
        TensorPrimitives.Divide(destination, sum, destination);
        return true;
    }

    private static float Gaussian(Random random)
    {
        // Box-Muller; 1 - NextDouble() lies in (0, 1], so the logarithm is finite.
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    private static int Prepare(Span<float> probabilities)
    {
        if (probabilities.IsEmpty)
        {
            return -1;
        }

        // Vectorised bounds first; the scan that names the index runs only on failure. NaN fails both tests.
        var min = TensorPrimitives.Min(probabilities);
        var max = TensorPrimitives.Max(probabilities);
        if (!(min >= 0f) || !(max <= 1f))
        {
            for (var i = 0; i < probabilities.Length; i++)
            {
                var v = probabilities[i];
                if (!(v >= 0f && v <= 1f))
                {
                    throw new ArgumentException(
                        string.Create(CultureInfo.InvariantCulture, $"probability {v} at index {i} is not a finite value in [0, 1]"),
                        nameof(probabilities));
                }
            }
        }

        // -0 + +0 is +0 and every other value is unchanged: this clears negative zeros in one vector pass.
        TensorPrimitives.Add(probabilities, 0f, probabilities);
        return ArgMax(probabilities);
    }
}
