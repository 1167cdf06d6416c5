namespace ShieldCluster.Server.Http;

/// <summary>
/// FP32 values from JSON number tokens that <see cref="System.Text.Json.Utf8JsonReader"/> has
/// already checked, the common ones without the general decimal parser: a significand of at most 19
/// digits under 2^53 and a decimal exponent within ±22 are both exact doubles, so one multiplication
/// or division rounds once (Clinger's fast path). Rounding that double to FP32 again gives the
/// correctly rounded FP32 value unless the double lies exactly on a midpoint between two FP32 values;
/// then, and for every other token, <see cref="TryParse"/> declines and the caller uses the general
/// parser. The answers are bit for bit those of <see cref="float.Parse(string)"/> (tests compare them).
/// </summary>
public static class JsonFloats
{
    private static readonly double[] PowersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    /// <summary>
    /// Parses a JSON number token (<c>-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?</c>, as the reader
    /// checked it) when the fast path gives the exact answer; false otherwise (not a failure: parse it
    /// the general way).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> token, out float value)
    {
        value = 0;
        var i = 0;
        var negative = token.Length > 0 && token[0] == '-';
        if (negative)
        {
            i = 1;
        }

        ulong significand = 0;
        var digits = 0;
        var exponent = 0;
        for (; i < token.Length && (uint)(token[i] - '0') <= 9; i++)
        {
            if (!Accumulate(token[i], ref significand, ref digits))
            {
                return false;
            }
        }

        if (i < token.Length && token[i] == '.')
        {
            for (i++; i < token.Length && (uint)(token[i] - '0') <= 9; i++)
            {
                if (!Accumulate(token[i], ref significand, ref digits))
                {
                    return false;
                }

                exponent--;
            }
        }

        if (i < token.Length && (token[i] | 0x20) == 'e')
        {
            i++;
            var negativeExponent = i < token.Length && token[i] == '-';
            if (i < token.Length && (token[i] == '-' || token[i] == '+'))
            {
                i++;
            }

            var written = 0;
            for (; i < token.Length && (uint)(token[i] - '0') <= 9; i++)
            {
                written = (written * 10) + (token[i] - '0');
                if (written > 1000)
                {
                    return false;
                }
            }

            exponent += negativeExponent ? -written : written;
        }

        if (i != token.Length)
        {
            return false;
        }

        if (significand == 0)
        {
            value = negative ? -0f : 0f;
            return true;
        }

        if (significand >= 1UL << 53 || exponent < -22 || exponent > 22)
        {
            return false;
        }

        var exact = exponent < 0 ? significand / PowersOfTen[-exponent] : significand * PowersOfTen[exponent];
        if (exact > float.MaxValue || (BitConverter.DoubleToUInt64Bits(exact) & 0x1FFF_FFFF) == 0x1000_0000)
        {
            // Past FP32's range, or on a midpoint between two FP32 values (where the double's own
            // rounding may have decided the tie): the general parser decides.
            return false;
        }

        value = negative ? -(float)exact : (float)exact;
        return true;
    }

    /// <summary>Adds a digit to the significand; leading zeros are not digits. False past 19 digits.</summary>
    private static bool Accumulate(byte digit, ref ulong significand, ref int digits)
    {
        if (significand == 0 && digit == '0')
        {
            return true;
        }

        if (++digits > 19)
        {
            return false;
        }

        significand = (significand * 10) + (uint)(digit - '0');
        return true;
    }
}
