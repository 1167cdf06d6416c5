using System.IO.Compression;
using ShieldCluster.RedTeam.Data;

namespace ShieldCluster.RedTeam.Tests;

public sealed class IdxReaderTests
{
    private static byte[] Idx(byte[] values, params int[] dims)
    {
        using var s = new MemoryStream();
        s.Write([0, 0, 0x08, (byte)dims.Length]);
        foreach (var d in dims)
        {
            s.Write([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        }

        s.Write(values);
        return s.ToArray();
    }

    private static byte[] Gzip(byte[] data)
    {
        using var s = new MemoryStream();
        using (var g = new GZipStream(s, CompressionLevel.Fastest, leaveOpen: true))
        {
            g.Write(data);
        }

        return s.ToArray();
    }

    [Fact]
    public void Read_plain_and_gzip_give_dimensions_and_values()
    {
        var values = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)i).ToArray();
        var raw = Idx(values, 2, 3, 4);
        foreach (var bytes in new[] { raw, Gzip(raw) })
        {
            var (dims, read) = IdxReader.Read(new MemoryStream(bytes));
            Assert.Equal([2, 3, 4], dims);
            Assert.Equal(values, read);
        }
    }

    [Fact]
    public void Read_rejects_other_types_and_truncation()
    {
        var bad = Idx([1, 2], 2);
        bad[2] = 0x0D;
        Assert.Throws<InvalidDataException>(() => IdxReader.Read(new MemoryStream(bad)));
        var truncated = Idx([1, 2, 3], 4);
        Assert.Throws<EndOfStreamException>(() => IdxReader.Read(new MemoryStream(truncated)));
    }

    [Fact]
    public void Load_scales_pixels_to_unit_range_and_pairs_labels()
    {
        var dir = Directory.CreateTempSubdirectory("idx");
        try
        {
            var images = Path.Combine(dir.FullName, "img.gz");
            var labels = Path.Combine(dir.FullName, "lbl.gz");
            File.WriteAllBytes(images, Gzip(Idx([0, 255, 51, 102, 0, 0, 0, 255], 2, 2, 2)));
            File.WriteAllBytes(labels, Gzip(Idx([3, 7], 2)));
            var set = ImageDataset.Load(images, labels);
            Assert.Equal(2, set.Count);
            Assert.Equal(4, set.Pixels);
            Assert.Equal([0f, 1f, 0.2f, 0.4f], set.Image(0).ToArray());
            Assert.Equal(7, set.Labels[1]);
            Assert.Equal([1f], set.Subset([1]).Image(0)[3..].ToArray());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Real_fashion_mnist_loads_when_installed()
    {
        if (!File.Exists(Path.Combine(FashionMnist.DefaultDirectory, "t10k-labels-idx1-ubyte.gz")))
        {
            return;
        }

        var data = FashionMnist.Load();
        Assert.Equal(60_000, data.Train.Count);
        Assert.Equal(10_000, data.Test.Count);
        Assert.Equal(784, data.Test.Pixels);
        Assert.InRange(data.Test.Images.Max(), 0.99f, 1f);
        Assert.Equal(10, data.Test.Labels.Distinct().Count());
    }
}
