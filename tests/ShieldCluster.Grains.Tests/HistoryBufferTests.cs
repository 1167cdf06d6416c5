using ShieldCluster.Contracts;
using ShieldCluster.Grains.Clients;

namespace ShieldCluster.Grains.Tests;

/// <summary>
/// The client grain's in-memory history against a plain list of the same records: the same
/// records, items, numbering and item copies after any run of appends, drops and resets, copies
/// that later appends cannot change, and no allocation per append once the history is full.
/// </summary>
public class HistoryBufferTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 8, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomAppendsDropsAndResets_MatchAPlainList(int seed)
    {
        var random = new Random(seed);
        var buffer = new HistoryBuffer();
        var expected = new List<QueryRecord>();
        long start = 0;
        var digest = 0UL;
        for (var step = 0; step < 3_000; step++)
        {
            var roll = random.Next(100);
            if (roll < 70)
            {
                var record = RandomRecord(random, ref digest, step);
                buffer.Add(record);
                expected.Add(record);
            }
            else if (roll < 97)
            {
                var drop = random.Next(expected.Count + 1);
                buffer.RemoveFirst(drop);
                expected.RemoveRange(0, drop);
                start += drop;
            }
            else
            {
                var keep = expected.Skip(random.Next(expected.Count + 1)).ToList();
                start += 7;
                buffer.Reset(keep, start);
                expected = keep;
            }

            Assert.Equal(start, buffer.Start);
            Assert.Equal(expected.Count, buffer.Count);
            Assert.Equal(start + expected.Count, buffer.End);
            Assert.Equal(expected.Sum(r => r.Items.Count), buffer.Items);
            if (step % 50 == 0 || step > 2_950)
            {
                AssertSame(expected, buffer.ToRecords(0, buffer.Count));
                for (var r = 0; r < expected.Count; r++)
                {
                    Assert.Equal(expected[r].At, buffer.At(r));
                    Assert.Equal(expected[r].Items.Count, buffer.ItemsOf(r));
                }

                var from = random.Next(expected.Count + 1);
                var observed = buffer.ItemsFrom(from).ToList();
                var items = expected.Skip(from).SelectMany(r => r.Items).ToList();
                Assert.Equal(items.Count, observed.Count);
                for (var i = 0; i < items.Count; i++)
                {
                    Assert.Equal(items[i].Digest, observed[i].Digest);
                    Assert.Equal(items[i].Label, observed[i].Label);
                    Assert.Equal(items[i].Thumbnail, observed[i].Thumbnail);
                    Assert.Equal(items[i].Fingerprint, observed[i].Fingerprint);
                    Assert.Equal(items[i].SqueezeFlagged, observed[i].SqueezeFlagged);
                }
            }
        }
    }

    [Fact]
    public void ToRecords_IsACopy_ThatLaterAppendsDoNotChange()
    {
        var buffer = new HistoryBuffer();
        buffer.Add(Record(1, fill: 1));
        var copy = buffer.ToRecords(0, 1)[0];
        var observed = buffer.ItemsFrom(0).Single();

        // The next record reuses the dropped one's arrays.
        buffer.RemoveFirst(1);
        buffer.Add(Record(2, fill: 2));

        Assert.All(copy.Items[0].Thumbnail, b => Assert.Equal(1, b));
        Assert.All(copy.Items[0].Fingerprint!, h => Assert.Equal(1UL, h));
        Assert.All(observed.Thumbnail, b => Assert.Equal(1, b));
        Assert.All(buffer.ToRecords(0, 1)[0].Items[0].Thumbnail, b => Assert.Equal(2, b));
    }

    [Fact]
    public void Append_ToAFullHistory_AllocatesNothing()
    {
        var buffer = new HistoryBuffer();
        var records = Enumerable.Range(0, 64).Select(i => Record(i, fill: (byte)i)).ToList();
        for (var i = 0; i < 2_000; i++)
        {
            buffer.Add(records[i % records.Count]);
            if (buffer.Count > 1_000)
            {
                buffer.RemoveFirst(1);
            }
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            buffer.Add(records[i % records.Count]);
            buffer.RemoveFirst(1);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1_000, buffer.Count);
        AssertSame([.. Enumerable.Range(0, 1_000).Select(i => records[i % records.Count])], buffer.ToRecords(0, buffer.Count));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    public void ItemRing_GrowsToWhatTheHistoryHolds_NotTwiceThat(int batch)
    {
        // As the client grain uses it: a cap of 1,000 items, the oldest records dropped past it (the newest stays).
        var buffer = new HistoryBuffer(1_001);
        var record = new QueryRecord(Now, "fashion-mnist", "1", [.. Enumerable.Range(0, batch).Select(i => new QueryItem((ulong)i, 0, 0.5f, new byte[784], new ulong[50]))]);
        var most = 0;
        for (var i = 0; i < 5_000 / batch + 100; i++)
        {
            buffer.Add(record);
            most = Math.Max(most, buffer.Items);
            var (drop, items) = (0, buffer.Items);
            while (items > 1_000 && drop < buffer.Count - 1)
            {
                items -= buffer.ItemsOf(drop++);
            }

            buffer.RemoveFirst(drop);
        }

        Assert.InRange(most, 1_000, 1_000 + batch);
        Assert.Equal(Math.Max(1_001, most), buffer.ItemSlots);
    }

    [Fact]
    public void OutOfRange_Throws_AndChangesNothing()
    {
        var buffer = new HistoryBuffer();
        buffer.Add(Record(1, fill: 1));

        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.RemoveFirst(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.At(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.ToRecords(1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.ItemsFrom(2).ToList());
        Assert.Equal(1, buffer.Count);
        AssertSame([Record(1, fill: 1)], buffer.ToRecords(0, 1));
    }

    private static QueryRecord Record(int digest, byte fill) =>
        new(Now.AddSeconds(digest), "fashion-mnist", "1", [new QueryItem((ulong)digest, digest % 10, 0.5f, Enumerable.Repeat(fill, 784).ToArray(), Enumerable.Repeat((ulong)fill, 50).ToArray(), digest % 3 == 0 ? null : digest % 2 == 0)]);

    private static QueryRecord RandomRecord(Random random, ref ulong digest, int step)
    {
        var items = new QueryItem[random.Next(1, 4)];
        for (var i = 0; i < items.Length; i++)
        {
            // Thumbnails and fingerprints of several lengths, so a reused slot's arrays are sometimes too short.
            var thumbnail = new byte[random.Next(3) switch { 0 => 49, 1 => 784, _ => 1_024 }];
            random.NextBytes(thumbnail);
            var fingerprint = random.Next(4) == 0 ? null : Enumerable.Range(0, random.Next(0, 51)).Select(_ => (ulong)random.NextInt64()).ToArray();
            items[i] = new QueryItem(++digest, random.Next(10), random.NextSingle(), thumbnail, fingerprint, random.Next(3) switch { 0 => null, 1 => true, _ => false });
        }

        var model = random.Next(3) switch { 0 => ("fashion-mnist", "1"), 1 => ("fashion-mnist", "2"), _ => ("resnet50", "1") };
        return new QueryRecord(Now.AddMilliseconds(step * 10 + random.Next(50)), model.Item1, model.Item2, items);
    }

    private static void AssertSame(List<QueryRecord> expected, List<QueryRecord> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var r = 0; r < expected.Count; r++)
        {
            Assert.Equal(expected[r].At, actual[r].At);
            Assert.Equal(expected[r].Model, actual[r].Model);
            Assert.Equal(expected[r].Version, actual[r].Version);
            Assert.Equal(expected[r].Items.Count, actual[r].Items.Count);
            for (var i = 0; i < expected[r].Items.Count; i++)
            {
                var (e, a) = (expected[r].Items[i], actual[r].Items[i]);
                Assert.Equal((e.Digest, e.Label, e.Confidence, e.SqueezeFlagged), (a.Digest, a.Label, a.Confidence, a.SqueezeFlagged));
                Assert.Equal(e.Thumbnail, a.Thumbnail);
                Assert.Equal(e.Fingerprint, a.Fingerprint);
            }
        }
    }
}
