using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using ShieldCluster.Server.Grpc.Protocol;

namespace ShieldCluster.LoadGen;

/// <summary>How requests travel to the server.</summary>
internal enum Wire
{
    /// <summary>KServe v2 JSON over HTTP/1.1 (<c>data</c> as numbers).</summary>
    Json,

    /// <summary>Triton's binary tensor extension over HTTP/1.1: a JSON header, then the raw little-endian tensor.</summary>
    Binary,

    /// <summary><c>inference.GRPCInferenceService/ModelInfer</c> with <c>raw_input_contents</c>, cleartext HTTP/2.</summary>
    Grpc,
}

/// <summary>
/// Input images as 8-bit levels (one byte per value) and the table that turns a level into the value
/// sent: the float, the FP16 value and the JSON text. Every wire and bare ONNX Runtime send the same
/// values for the same level.
/// </summary>
internal interface IInputImages
{
    /// <summary>Images in the pool.</summary>
    int Count { get; }

    /// <summary>Values per image.</summary>
    int Elements { get; }

    /// <summary>Where the images came from, for the report.</summary>
    string Source { get; }

    /// <summary>True for generated inputs (composed per request into the slot's scratch buffer).</summary>
    bool Synthetic { get; }

    LevelTable Table { get; }

    /// <summary>The levels of image <paramref name="image"/>: a slice of the pool, or composed into <paramref name="scratch"/> (<see cref="Elements"/> bytes).</summary>
    ReadOnlySpan<byte> Levels(int image, Span<byte> scratch);
}

/// <summary>The value of each of the 256 levels, in every form a wire needs.</summary>
internal sealed class LevelTable
{
    public LevelTable(float[] floats, Half[] halves, byte[][] utf8)
    {
        Floats = floats;
        Halves = halves;
        Utf8 = utf8;
        MaxUtf8Length = utf8.Max(u => u.Length);
        // Levels whose values differ from every lower level's: the digits of the stamped counter.
        var distinct = new List<byte>();
        for (var level = 0; level < 256; level++)
        {
            if (distinct.Count == 0 || Floats[level] > Floats[distinct[^1]])
            {
                distinct.Add((byte)level);
            }
        }

        DistinctLevels = [.. distinct];
    }

    public float[] Floats { get; }

    public Half[] Halves { get; }

    /// <summary>JSON text of each level's value (as the wire's datatype holds it).</summary>
    public byte[][] Utf8 { get; }

    public int MaxUtf8Length { get; }

    /// <summary>Levels with strictly increasing values.</summary>
    public byte[] DistinctLevels { get; }

    /// <summary>
    /// The table for the range [<paramref name="low"/>, <paramref name="high"/>]: level k is
    /// low + (high - low) k / 255, kept inside the range; for FP16 the nearest FP16 value inside it
    /// (floats and text then hold exactly that FP16 value).
    /// </summary>
    public static LevelTable ForRange(float low, float high, bool fp16)
    {
        var floats = new float[256];
        var halves = new Half[256];
        var utf8 = new byte[256][];
        for (var level = 0; level < 256; level++)
        {
            var value = Math.Clamp(low + (high - low) * (level / 255f), low, high);
            var half = HalfInRange(value, low, high);
            floats[level] = fp16 ? (float)half : value;
            halves[level] = half;
            utf8[level] = Encoding.ASCII.GetBytes(floats[level].ToString("R", CultureInfo.InvariantCulture));
        }

        return new LevelTable(floats, halves, utf8);
    }

    /// <summary>The FP16 value nearest <paramref name="value"/> that is still inside [low, high] (when one exists).</summary>
    public static Half HalfInRange(float value, float low, float high)
    {
        var half = (Half)value;
        if ((float)half > high)
        {
            var down = Half.BitDecrement(half);
            half = (float)down >= low ? down : half;
        }
        else if ((float)half < low)
        {
            var up = Half.BitIncrement(half);
            half = (float)up <= high ? up : half;
        }

        return half;
    }
}

/// <summary>
/// Generated inputs for a model without a dataset (e.g. ResNet-50): every image is a different
/// full pseudo-random image of the model's dims, values spread over its declared range (256
/// levels). Image <c>k</c> is the XOR of two windows of one seeded noise buffer of
/// <see cref="NoiseBytes"/> bytes, at offsets <c>o</c> and <c>o + 1 + k</c> (<c>o</c> a hash of
/// <c>k</c>): images with different <c>k</c> have different offset gaps, so they share no run of
/// values (no near-duplicates, no shared Blacklight windows) and composing one costs a vectorised
/// XOR and a table lookup per value, no allocation. Not the stamping of a counter into a fixed image:
/// such requests are near-duplicates of each other, the pattern of a query-based evasion attack,
/// and the protected server blocks every such client within a second.
/// </summary>
internal sealed class SyntheticImages : IInputImages
{
    /// <summary>The noise buffer (more for very large inputs: at least 4 images).</summary>
    public const int NoiseBytes = 16 << 20;

    private readonly byte[] _noise;
    private readonly int _period;

    private SyntheticImages(ModelSpec spec, int seed)
    {
        Elements = spec.Elements;
        _period = Math.Max(NoiseBytes, 4 * Elements);
        // The first Elements bytes repeat at the end, so every window of the period is one contiguous slice.
        _noise = new byte[(long)_period + Elements <= Array.MaxLength ? _period + Elements : throw new InvalidOperationException("the synthetic input is too large")];
        new Random(seed).NextBytes(_noise.AsSpan(0, _period));
        _noise.AsSpan(0, Elements).CopyTo(_noise.AsSpan(_period));
        Count = _period - 1;
        Table = LevelTable.ForRange(spec.Low, spec.High, spec.Fp16);
        if (Table.DistinctLevels.Length < 2)
        {
            throw new InvalidOperationException(
                $"model {spec.Name}: the input range [{spec.Low}, {spec.High}] holds fewer than 2 distinct {spec.Datatype} values; requests cannot be made distinct");
        }

        Source = string.Create(CultureInfo.InvariantCulture,
            $"synthetic: pseudo-random inputs of {spec.ShapeText} {spec.Datatype} in [{spec.Low}, {spec.High}] (256 levels), a different full image per request, composed from a {_period >> 20} MiB noise buffer seeded {seed}");
    }

    /// <summary>Distinct images (each client walks its own stretch of them, as with a real pool).</summary>
    public int Count { get; }

    public int Elements { get; }

    public string Source { get; }

    public bool Synthetic => true;

    public LevelTable Table { get; }

    public static SyntheticImages Create(ModelSpec spec, int seed) => new(spec, seed);

    public ReadOnlySpan<byte> Levels(int image, Span<byte> scratch)
    {
        // Image k: windows at o and o + 1 + k (mod the period): a different gap for every k.
        var k = (ulong)(uint)image;
        var period = (ulong)_period;
        var first = Mix(k) % period;
        var second = (first + 1 + k % (period - 1)) % period;
        Xor(_noise.AsSpan((int)first, Elements), _noise.AsSpan((int)second, Elements), scratch[..Elements]);
        return scratch[..Elements];
    }

    private static void Xor(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> destination)
    {
        var i = 0;
        for (; i <= destination.Length - Vector<byte>.Count; i += Vector<byte>.Count)
        {
            (new Vector<byte>(a[i..]) ^ new Vector<byte>(b[i..])).CopyTo(destination[i..]);
        }

        for (; i < destination.Length; i++)
        {
            destination[i] = (byte)(a[i] ^ b[i]);
        }
    }

    /// <summary>SplitMix64's finaliser: the first window's offset, spread over the buffer.</summary>
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}

/// <summary>
/// A reusable request: one per closed-loop worker, or per request in flight in the open loop. Its
/// buffers are allocated once and rewritten in place before each send (the request is never in flight
/// while that happens); bodies are sent straight from them.
/// </summary>
internal sealed class RequestSlot(int index, byte[] buffer, int tensorOffset, byte[]? scratch)
{
    public int Index { get; } = index;

    /// <summary>JSON: the body. Binary: the JSON header, then the tensor. gRPC: the raw tensor.</summary>
    public byte[] Buffer { get; } = buffer;

    /// <summary>Bytes of <see cref="Buffer"/> in use.</summary>
    public int Length { get; set; }

    /// <summary>Where the raw tensor starts (binary: the JSON header's length).</summary>
    public int TensorOffset { get; } = tensorOffset;

    /// <summary>Synthetic images: where the next image's levels are composed.</summary>
    public byte[]? Scratch { get; } = scratch;

    /// <summary>gRPC: the message, whose raw input wraps <see cref="Buffer"/> (no copy).</summary>
    public ModelInferRequest? Grpc { get; init; }
}

/// <summary>
/// Builds and refreshes requests of one wire for one model: each request carries the image the
/// client's cursor gives (a pool image, or a synthetic image composed for it), written into the
/// slot's own buffer, so a request allocates nothing of its size.
/// </summary>
internal sealed class RequestFactory
{
    private readonly byte[] _jsonPrefix;
    private readonly byte[] _jsonSuffix = "]}]}"u8.ToArray();
    private readonly byte[] _binaryHeader = [];

    public RequestFactory(ModelSpec spec, IInputImages images, Wire wire)
    {
        if (images.Elements != spec.Elements)
        {
            throw new InvalidOperationException($"the images have {images.Elements} values, model {spec.Name} takes {spec.Elements} ({spec.ShapeText})");
        }

        Spec = spec;
        Images = images;
        Wire = wire;

        var prefix = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(prefix))
        {
            json.WriteStartObject();
            json.WriteStartArray("inputs");
            json.WriteStartObject();
            WriteInput(json, spec);
            json.WriteStartArray("data");
            json.Flush();
        }

        // The writer's output ends with '[' of "data"; the values and "]}]}" follow.
        _jsonPrefix = prefix.WrittenSpan.ToArray();

        if (wire == Wire.Binary)
        {
            var header = new ArrayBufferWriter<byte>(256);
            using (var json = new Utf8JsonWriter(header))
            {
                json.WriteStartObject();
                json.WriteStartArray("inputs");
                json.WriteStartObject();
                WriteInput(json, spec);
                json.WriteStartObject("parameters");
                json.WriteNumber("binary_data_size", TensorBytes);
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteStartArray("outputs");
                json.WriteStartObject();
                json.WriteString("name", spec.OutputName);
                json.WriteStartObject("parameters");
                json.WriteBoolean("binary_data", true);
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
            }

            _binaryHeader = header.WrittenSpan.ToArray();
        }

        HeaderLengthText = _binaryHeader.Length.ToString(CultureInfo.InvariantCulture);
    }

    public ModelSpec Spec { get; }

    public IInputImages Images { get; }

    public Wire Wire { get; }

    /// <summary>Bytes of the raw tensor of one request.</summary>
    public int TensorBytes => Spec.Elements * Spec.ElementBytes;

    /// <summary>Binary wire: the <c>Inference-Header-Content-Length</c> value.</summary>
    public string HeaderLengthText { get; }

    /// <summary>A new slot with its buffers (filled by <see cref="Prepare"/>).</summary>
    public RequestSlot CreateSlot(int index)
    {
        var scratch = Images.Synthetic ? new byte[Spec.Elements] : null;
        switch (Wire)
        {
            case Wire.Json:
                return new RequestSlot(index, new byte[_jsonPrefix.Length + _jsonSuffix.Length + Spec.Elements * (Images.Table.MaxUtf8Length + 1)], 0, scratch);
            case Wire.Binary:
            {
                var buffer = new byte[_binaryHeader.Length + TensorBytes];
                _binaryHeader.CopyTo(buffer, 0);
                return new RequestSlot(index, buffer, _binaryHeader.Length, scratch) { Length = buffer.Length };
            }

            default:
            {
                var buffer = new byte[TensorBytes];
                var message = new ModelInferRequest { ModelName = Spec.Name };
                var input = new ModelInferRequest.Types.InferInputTensor { Name = Spec.InputName, Datatype = Spec.Datatype };
                input.Shape.Add(Spec.RequestShape);
                message.Inputs.Add(input);
                message.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = Spec.OutputName });
                // No copy: the message's raw input is the slot's buffer, rewritten in place between calls.
                message.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(buffer.AsMemory()));
                return new RequestSlot(index, buffer, 0, scratch) { Length = buffer.Length, Grpc = message };
            }
        }
    }

    /// <summary>Makes <paramref name="slot"/> the request for image <paramref name="image"/> (from the client's cursor).</summary>
    public void Prepare(RequestSlot slot, int image)
    {
        var levels = Images.Levels(image, slot.Scratch);
        if (Wire == Wire.Json)
        {
            slot.Length = WriteJson(levels, slot.Buffer);
        }
        else
        {
            WriteTensor(levels, slot.Buffer.AsSpan(slot.TensorOffset, TensorBytes));
        }
    }

    private static void WriteInput(Utf8JsonWriter json, ModelSpec spec)
    {
        json.WriteString("name", spec.InputName);
        json.WriteStartArray("shape");
        foreach (var d in spec.RequestShape)
        {
            json.WriteNumberValue(d);
        }

        json.WriteEndArray();
        json.WriteString("datatype", spec.Datatype);
    }

    /// <summary>The JSON body of one image; its length.</summary>
    private int WriteJson(ReadOnlySpan<byte> levels, Span<byte> destination)
    {
        var utf8 = Images.Table.Utf8;
        _jsonPrefix.CopyTo(destination);
        var at = _jsonPrefix.Length;
        for (var i = 0; i < levels.Length; i++)
        {
            if (i > 0)
            {
                destination[at++] = (byte)',';
            }

            var text = utf8[levels[i]];
            text.CopyTo(destination[at..]);
            at += text.Length;
        }

        _jsonSuffix.CopyTo(destination[at..]);
        return at + _jsonSuffix.Length;
    }

    /// <summary>destination[i] = table[levels[i]], without bounds checks (a level is a byte, the table has 256 entries): the per-request cost of a large input.</summary>
    private static void Lookup<T>(ReadOnlySpan<byte> levels, T[] table, Span<T> destination)
        where T : unmanaged
    {
        if (table.Length != 256 || destination.Length < levels.Length)
        {
            throw new ArgumentException("a level table has 256 entries and the destination room for every level");
        }

        ref var t = ref MemoryMarshal.GetArrayDataReference(table);
        ref var d = ref MemoryMarshal.GetReference(destination);
        ref var l = ref MemoryMarshal.GetReference(levels);
        var i = 0;
        for (; i <= levels.Length - 4; i += 4)
        {
            Unsafe.Add(ref d, i) = Unsafe.Add(ref t, Unsafe.Add(ref l, i));
            Unsafe.Add(ref d, i + 1) = Unsafe.Add(ref t, Unsafe.Add(ref l, i + 1));
            Unsafe.Add(ref d, i + 2) = Unsafe.Add(ref t, Unsafe.Add(ref l, i + 2));
            Unsafe.Add(ref d, i + 3) = Unsafe.Add(ref t, Unsafe.Add(ref l, i + 3));
        }

        for (; i < levels.Length; i++)
        {
            Unsafe.Add(ref d, i) = Unsafe.Add(ref t, Unsafe.Add(ref l, i));
        }
    }

    /// <summary>Writes the values of <paramref name="levels"/> as little-endian FP32 or FP16 (one table lookup per value).</summary>
    private void WriteTensor(ReadOnlySpan<byte> levels, Span<byte> destination)
    {
        var table = Images.Table;
        if (!BitConverter.IsLittleEndian)
        {
            for (var i = 0; i < levels.Length; i++)
            {
                if (Spec.Fp16)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(destination[(2 * i)..], table.Halves[levels[i]]);
                }
                else
                {
                    BinaryPrimitives.WriteSingleLittleEndian(destination[(4 * i)..], table.Floats[levels[i]]);
                }
            }

            return;
        }

        if (Spec.Fp16)
        {
            Lookup(levels, table.Halves, MemoryMarshal.Cast<byte, Half>(destination));
        }
        else
        {
            Lookup(levels, table.Floats, MemoryMarshal.Cast<byte, float>(destination));
        }
    }
}
