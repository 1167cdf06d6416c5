using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace ShieldCluster.LoadGen;

/// <summary>
/// Real Fashion-MNIST images (the 10,000 test images first, then the 60,000 training images, from
/// Debian's dataset-fashion-mnist; else the repository's sample requests), kept as 8-bit levels.
/// Request bodies are assembled from a table of the 256 pre-formatted pixel values (as the
/// repository's samples write them: <c>round(level / 255, 4)</c>), so building one costs a copy of
/// about 4 KB, and the bare ONNX Runtime phase feeds exactly the floats the server parses.
/// </summary>
internal sealed class ImagePool : IInputImages
{
    public const int Pixels = 28 * 28;
    public const string DatasetDirectory = "/usr/share/datasets/fashion-mnist";

    private static readonly byte[][] Utf8Levels = BuildUtf8Levels();
    private static readonly float[] FloatLevels = [.. Utf8Levels.Select(b => float.Parse(Encoding.ASCII.GetString(b), CultureInfo.InvariantCulture))];
    private static readonly LevelTable LevelValues = new(FloatLevels, [.. FloatLevels.Select(f => (Half)f)], Utf8Levels);
    private static readonly byte[] Prefix = """{"inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"FP32","data":["""u8.ToArray();
    private static readonly byte[] Suffix = "]}]}"u8.ToArray();

    private readonly byte[] _levels;

    private ImagePool(byte[] levels, string source)
    {
        _levels = levels;
        Count = levels.Length / Pixels;
        Source = source;
    }

    /// <summary>Images in the pool.</summary>
    public int Count { get; }

    /// <summary>Where the images came from, for the report.</summary>
    public string Source { get; }

    public int Elements => Pixels;

    public bool Synthetic => false;

    public LevelTable Table => LevelValues;

    public ReadOnlySpan<byte> Levels(int image, Span<byte> scratch) => _levels.AsSpan(image * Pixels, Pixels);

    /// <summary>Loads the dataset, or the sample requests under <paramref name="modelDirectory"/> if it is not installed.</summary>
    public static ImagePool Load(string modelDirectory, int maxImages = 70_000)
    {
        var test = Path.Combine(DatasetDirectory, "t10k-images-idx3-ubyte.gz");
        var train = Path.Combine(DatasetDirectory, "train-images-idx3-ubyte.gz");
        if (File.Exists(test))
        {
            var levels = ReadIdx(test);
            var source = $"Fashion-MNIST {levels.Length / Pixels:N0} test images";
            if (levels.Length / Pixels < maxImages && File.Exists(train))
            {
                var trainLevels = ReadIdx(train);
                var take = Math.Min(trainLevels.Length / Pixels, maxImages - levels.Length / Pixels);
                levels = [.. levels, .. trainLevels.AsSpan(0, take * Pixels)];
                source += $" then {take:N0} training images";
            }

            return new ImagePool(levels, source + $" ({DatasetDirectory})");
        }

        var samples = Path.Combine(modelDirectory, "samples");
        var all = new List<byte>();
        foreach (var file in Directory.Exists(samples) ? Directory.GetFiles(samples, "*.json").Order(StringComparer.Ordinal).ToArray() : [])
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
            foreach (var input in doc.RootElement.GetProperty("inputs").EnumerateArray())
            {
                foreach (var value in Flatten(input.GetProperty("data")))
                {
                    all.Add((byte)Math.Clamp(Math.Round(value * 255), 0, 255));
                }
            }
        }

        if (all.Count < Pixels)
        {
            throw new InvalidOperationException(
                $"no images: Fashion-MNIST is not installed at {DatasetDirectory} ('apt-get install dataset-fashion-mnist') and {samples} has no samples");
        }

        return new ImagePool([.. all.Take(all.Count / Pixels * Pixels)], $"{all.Count / Pixels} images from {samples} (dataset not installed)");
    }

    /// <summary>The JSON request body (batch of one) for image <paramref name="index"/>.</summary>
    public byte[] Body(int index)
    {
        var image = _levels.AsSpan(index * Pixels, Pixels);
        var length = Prefix.Length + Suffix.Length + Pixels - 1;
        foreach (var level in image)
        {
            length += Utf8Levels[level].Length;
        }

        var body = new byte[length];
        var span = body.AsSpan();
        Prefix.CopyTo(span);
        var at = Prefix.Length;
        for (var i = 0; i < image.Length; i++)
        {
            if (i > 0)
            {
                span[at++] = (byte)',';
            }

            var text = Utf8Levels[image[i]];
            text.CopyTo(span[at..]);
            at += text.Length;
        }

        Suffix.CopyTo(span[at..]);
        return body;
    }

    /// <summary>Writes image <paramref name="index"/> as the floats the server would parse from its body.</summary>
    public void Fill(int index, Span<float> destination)
    {
        var image = _levels.AsSpan(index * Pixels, Pixels);
        for (var i = 0; i < Pixels; i++)
        {
            destination[i] = FloatLevels[image[i]];
        }
    }

    private static byte[][] BuildUtf8Levels()
    {
        var table = new byte[256][];
        for (var level = 0; level < 256; level++)
        {
            // As make_samples.py writes them: Python's repr of round(level / 255, 4).
            var value = Math.Round(level / 255.0, 4, MidpointRounding.ToEven);
            table[level] = Encoding.ASCII.GetBytes(value.ToString("0.0###", CultureInfo.InvariantCulture));
        }

        return table;
    }

    private static IEnumerable<double> Flatten(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                foreach (var value in Flatten(item))
                {
                    yield return value;
                }
            }
        }
        else
        {
            yield return element.GetDouble();
        }
    }

    private static byte[] ReadIdx(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        var raw = memory.GetBuffer().AsSpan(0, (int)memory.Length);
        var magic = (raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3];
        if (magic != 0x803)
        {
            throw new InvalidDataException($"{path}: IDX magic {magic:x}, expected 803");
        }

        var count = (raw[4] << 24) | (raw[5] << 16) | (raw[6] << 8) | raw[7];
        return raw.Slice(16, count * Pixels).ToArray();
    }
}

/// <summary>
/// Which image each client sends next: client <c>i</c> of <c>n</c> starts at image <c>i * pool / n</c>
/// and walks on, so within a run no client resends an image (a resend is a retry, which the
/// detectors skip: it would flatter the protected server). One cursor per server, kept across its phases.
/// </summary>
internal sealed class ImageCursor(int poolSize, int clients)
{
    private readonly long[] _next = new long[clients];

    public int Next(int client)
    {
        var offset = (long)client * poolSize / _next.Length;
        var n = Interlocked.Increment(ref _next[client]) - 1;
        return (int)((offset + n) % poolSize);
    }
}
