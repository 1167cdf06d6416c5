using System.IO.Compression;

namespace ShieldCluster.Testing;

/// <summary>
/// Reads the real Fashion-MNIST IDX files that Debian's dataset-fashion-mnist installs. Images come
/// back as FP32 values in [0,1], 784 per image, as the demo model takes them.
/// </summary>
internal static class FashionMnist
{
    public const string Directory = "/usr/share/datasets/fashion-mnist";
    public const int Pixels = 28 * 28;

    private static readonly Lazy<(float[] Images, byte[] Labels)> Test = new(() => Load("t10k"));
    private static readonly Lazy<(float[] Images, byte[] Labels)> Train = new(() => Load("train"));

    /// <summary>The 10,000 test images, flattened, and their labels.</summary>
    public static (float[] Images, byte[] Labels) TestSet => Test.Value;

    /// <summary>The 60,000 training images, flattened, and their labels.</summary>
    public static (float[] Images, byte[] Labels) TrainSet => Train.Value;

    /// <summary>Test image <paramref name="index"/> as 784 values.</summary>
    public static float[] TestImage(int index) => TestSet.Images.AsSpan(index * Pixels, Pixels).ToArray();

    private static (float[] Images, byte[] Labels) Load(string prefix)
    {
        var imagesPath = Path.Combine(Directory, $"{prefix}-images-idx3-ubyte.gz");
        var labelsPath = Path.Combine(Directory, $"{prefix}-labels-idx1-ubyte.gz");
        if (!File.Exists(imagesPath) || !File.Exists(labelsPath))
        {
            throw new InvalidOperationException(
                $"Fashion-MNIST is not installed at {Directory}: run 'apt-get install dataset-fashion-mnist' (scripts/test.sh does this).");
        }

        var images = ReadIdx(imagesPath, 0x803, out var count);
        var labels = ReadIdx(labelsPath, 0x801, out var labelCount);
        if (count != labelCount)
        {
            throw new InvalidDataException($"{count} images but {labelCount} labels");
        }

        var values = new float[images.Length];
        for (var i = 0; i < images.Length; i++)
        {
            values[i] = images[i] / 255f;
        }

        return (values, labels);
    }

    private static byte[] ReadIdx(string path, int magic, out int count)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        var raw = memory.ToArray();
        var actual = ReadInt(raw, 0);
        if (actual != magic)
        {
            throw new InvalidDataException($"{path}: IDX magic {actual:x}, expected {magic:x}");
        }

        count = ReadInt(raw, 4);
        var offset = magic == 0x803 ? 16 : 8;
        return raw[offset..];
    }

    private static int ReadInt(byte[] raw, int offset) =>
        (raw[offset] << 24) | (raw[offset + 1] << 16) | (raw[offset + 2] << 8) | raw[offset + 3];
}
