using ShieldCluster.Protection.OutputHardening;

namespace ShieldCluster.Protection.Tests.OutputHardening;

public class MisinformationTests
{
    [Fact]
    public void Decoy_IsADerangement_NeverTheLabel_AndOneToOne()
    {
        for (var shift = 1; shift < 10; shift++)
        {
            var decoys = Enumerable.Range(0, 10).Select(label => Misinformation.Decoy(label, 10, shift)).ToList();
            Assert.All(Enumerable.Range(0, 10), label => Assert.NotEqual(label, decoys[label]));
            Assert.Equal(10, decoys.Distinct().Count());
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    public void Decoy_ShiftOutOfRange_Throws(int shift) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Misinformation.Decoy(3, 10, shift));

    [Fact]
    public void ShiftFor_DependsOnTheSecret_AndStaysInRange()
    {
        var shifts = Enumerable.Range(0, 200).Select(i => Misinformation.ShiftFor(BitConverter.GetBytes(i), 10)).ToList();
        Assert.All(shifts, s => Assert.InRange(s, 1, 9));
        Assert.Equal(9, shifts.Distinct().Count());
        Assert.Equal(Misinformation.ShiftFor("same secret"u8, 10), Misinformation.ShiftFor("same secret"u8, 10));
    }

    [Fact]
    public void Apply_AnswersTheOneHotOfTheDecoy_TheSameForTheSameScores()
    {
        float[] scores = [0.05f, 0.7f, 0.1f, 0.15f];
        var again = (float[])scores.Clone();
        Misinformation.Apply(scores, shift: 2);
        Misinformation.Apply(again, shift: 2);
        Assert.Equal([0f, 0f, 0f, 1f], scores);
        Assert.Equal(scores, again);
    }
}
