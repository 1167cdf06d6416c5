using System.Globalization;
using System.Text;
using ShieldCluster.Server.Http;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// The JSON fast path for FP32 values: whenever it answers, bit for bit <see cref="float.Parse(string)"/>
/// (correctly rounded), and it answers for the numbers clients send.
/// </summary>
public sealed class JsonFloatsTests
{
    private static void AssertAgrees(string token)
    {
        if (JsonFloats.TryParse(Encoding.ASCII.GetBytes(token), out var fast))
        {
            var expected = float.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture);
            Assert.True(
                BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(fast),
                $"{token}: fast path {fast:R} (0x{BitConverter.SingleToUInt32Bits(fast):X8}), float.Parse {expected:R} (0x{BitConverter.SingleToUInt32Bits(expected):X8})");
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("0.0")]
    [InlineData("-0.0e-5")]
    [InlineData("0e400")]
    [InlineData("1")]
    [InlineData("-1")]
    [InlineData("0.5")]
    [InlineData("1.5E3")]
    [InlineData("1.5e+3")]
    [InlineData("25e-2")]
    [InlineData("0.003921569")]
    [InlineData("0.996078432")]
    [InlineData("3.402823e20")]
    [InlineData("1e22")]
    [InlineData("1e-22")]
    [InlineData("9007199254740991")]
    [InlineData("123456789.123456")]
    public void CommonTokens_TakeTheFastPath_AndAgree(string token)
    {
        Assert.True(JsonFloats.TryParse(Encoding.ASCII.GetBytes(token), out var fast), $"{token} declined");
        Assert.Equal(
            BitConverter.SingleToUInt32Bits(float.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture)),
            BitConverter.SingleToUInt32Bits(fast));
    }

    [Theory]
    [InlineData("9007199254740993")] // significand past 2^53
    [InlineData("12345678901234567890")] // 20 digits
    [InlineData("1e23")] // exponent past 22
    [InlineData("1e-23")]
    [InlineData("3.4028235e38")] // exponent 31 once the 7 decimals are counted
    [InlineData("1e39")] // past FP32's range
    [InlineData("3.5e38")]
    [InlineData("16777217")] // exactly between two FP32 values
    [InlineData("0.5000000298023224")] // rounds to the double on a midpoint, though above it
    [InlineData("1e99999")]
    public void Declines_WhatTheFastPathCannotAnswerExactly(string token)
    {
        Assert.False(JsonFloats.TryParse(Encoding.ASCII.GetBytes(token), out _), $"{token} taken");
    }

    [Fact]
    public void AboveAMidpoint_WouldRoundTheWrongWayThroughTheDouble()
    {
        // Why the midpoint check exists: this decimal lies just above the midpoint between 0.5 and the
        // next FP32 value, but its nearest double IS the midpoint, which then rounds to even (0.5).
        const string token = "0.5000000298023224";
        var viaDouble = (float)double.Parse(token, CultureInfo.InvariantCulture);
        var correct = float.Parse(token, CultureInfo.InvariantCulture);
        Assert.NotEqual(correct, viaDouble);
        Assert.False(JsonFloats.TryParse(Encoding.ASCII.GetBytes(token), out _));
    }

    [Fact]
    public void EveryPixelValue_AsClientsWriteIt_TakesTheFastPath()
    {
        for (var level = 0; level < 256; level++)
        {
            var pixel = level / 255f;
            foreach (var token in new[]
            {
                pixel.ToString("R", CultureInfo.InvariantCulture),
                ((double)pixel).ToString("R", CultureInfo.InvariantCulture),
                (level / 255.0).ToString("R", CultureInfo.InvariantCulture),
            })
            {
                var significand = token.Replace(".", string.Empty, StringComparison.Ordinal).TrimStart('0');
                if (significand.Length > 16 || (significand.Length == 16 && ulong.Parse(significand, CultureInfo.InvariantCulture) >= 1UL << 53))
                {
                    continue; // a significand past 2^53: declined by design
                }

                Assert.True(JsonFloats.TryParse(Encoding.ASCII.GetBytes(token), out var fast), $"{token} declined");
                Assert.Equal(float.Parse(token, CultureInfo.InvariantCulture), fast);
            }
        }
    }

    [Fact]
    public void RandomFloats_InEveryFormat_Agree()
    {
        var random = new Random(20261127);
        string[] formats = ["R", "G9", "E7", "E3", "F4", "G6"];
        var taken = 0;
        for (var n = 0; n < 200_000; n++)
        {
            var value = BitConverter.Int32BitsToSingle(random.Next(int.MinValue, int.MaxValue));
            if (!float.IsFinite(value))
            {
                continue;
            }

            foreach (var format in formats)
            {
                var token = value.ToString(format, CultureInfo.InvariantCulture);
                AssertAgrees(token);
                taken += JsonFloats.TryParse(Encoding.ASCII.GetBytes(token), out _) ? 1 : 0;
            }

            AssertAgrees(((double)value).ToString("R", CultureInfo.InvariantCulture));
            AssertAgrees((value * 1.000000001).ToString("G17", CultureInfo.InvariantCulture));
        }

        Assert.True(taken > 100_000, $"fast path taken only {taken} times");
    }

    [Fact]
    public void RandomDecimals_NearTheFastPathsLimits_Agree()
    {
        var random = new Random(7);
        for (var n = 0; n < 500_000; n++)
        {
            var digits = random.Next(1, 21);
            var builder = new StringBuilder();
            if (random.Next(2) == 0)
            {
                builder.Append('-');
            }

            var point = random.Next(0, digits + 1);
            for (var d = 0; d < digits; d++)
            {
                if (d == point && d > 0)
                {
                    builder.Append('.');
                }

                builder.Append(d == 0 && digits > 1 && point != 1 ? (char)('1' + random.Next(9)) : (char)('0' + random.Next(10)));
            }

            if (random.Next(3) == 0)
            {
                builder.Append(random.Next(2) == 0 ? 'e' : 'E').Append(random.Next(-30, 31));
            }

            AssertAgrees(builder.ToString());
        }
    }

    [Fact]
    public void Midpoints_OfFp32Values_AreLeftToTheGeneralParser()
    {
        var random = new Random(11);
        for (var n = 0; n < 100_000; n++)
        {
            // The exact midpoint between a random FP32 value and the next: a double, printed exactly
            // when short enough, and one unit in the 16th digit either side.
            var low = BitConverter.Int32BitsToSingle(random.Next(0x3000_0000, 0x5000_0000));
            var midpoint = ((double)low + (double)MathF.BitIncrement(low)) / 2;
            foreach (var format in new[] { "R", "G16", "G15", "E15" })
            {
                AssertAgrees(midpoint.ToString(format, CultureInfo.InvariantCulture));
            }
        }
    }
}
