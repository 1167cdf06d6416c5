using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using ShieldCluster.Server.Http;
using ShieldCluster.Server.Serving;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// <see cref="InferRequestParser.ReadAsync"/> on bodies as a connection delivers them: split into
/// pipe segments of any size (a float's bytes across two segments), arriving a few bytes at a time,
/// with and without a <c>Content-Length</c>. The tensors are the body's values, and every refusal is
/// the one the whole body would get, 413 first.
/// </summary>
public class RequestBodyReadingTests
{
    private const long Limit = 100_000;

    private static readonly float[] Fp32Values = [.. Enumerable.Range(0, 1_000).Select(i => (i * 0.37f) - 11f)];
    private static readonly Half[] Fp16Values = [.. Enumerable.Range(0, 777).Select(i => (Half)((i * 0.5f) - 3f))];

    /// <summary>How the body reaches the parser.</summary>
    public enum Delivery
    {
        /// <summary>All of it at once, in segments of 1 to 13 bytes.</summary>
        ManySegments,

        /// <summary>1 to 13 more bytes with each read, the rest only after they were consumed, as a slow connection gives them.</summary>
        Dribble,

        /// <summary>Written to a pipe up to 300 bytes at a time, each write flushed: the parser waits for data.</summary>
        Trickle,
    }

    [Theory]
    [InlineData(Delivery.ManySegments, true)]
    [InlineData(Delivery.ManySegments, false)]
    [InlineData(Delivery.Dribble, true)]
    [InlineData(Delivery.Dribble, false)]
    [InlineData(Delivery.Trickle, true)]
    [InlineData(Delivery.Trickle, false)]
    public async Task BinaryBody_AnySplit_GivesTheValuesOfEachInput(Delivery delivery, bool contentLength)
    {
        var header = Header(
            Input("image", "FP32", Fp32Values.Length * 4),
            Input("half", "FP16", Fp16Values.Length * 2),
            "{\"name\":\"json\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":[1.5,2.5]}",
            Input("empty", "FP32", 0));
        var body = Body(header, [.. MemoryMarshal.AsBytes(Fp32Values.AsSpan()), .. MemoryMarshal.AsBytes(Fp16Values.AsSpan())]);

        var request = await ReadAsync(body, header.Length, delivery, contentLength);

        Assert.Equal(["image", "half", "json", "empty"], request.Inputs.Select(i => i.Name));
        Assert.Equal(Fp32Values, request.Inputs[0].Data);
        Assert.Equal(Fp16Values, request.Inputs[1].Halves);
        Assert.Null(request.Inputs[1].Data);
        Assert.Equal([1.5f, 2.5f], request.Inputs[2].Data!);
        Assert.Empty(request.Inputs[3].Data!);
    }

    [Theory]
    [InlineData(Delivery.ManySegments, true)]
    [InlineData(Delivery.Dribble, false)]
    [InlineData(Delivery.Trickle, false)]
    public async Task JsonBody_AnySplit_IsParsedWhole(Delivery delivery, bool contentLength)
    {
        var json = Encoding.UTF8.GetBytes("{\"id\":\"a\",\"inputs\":[{\"name\":\"x\",\"shape\":[3],\"datatype\":\"FP32\",\"data\":[0.25,-1,3e2]}]}");

        var request = await ReadAsync(json, headerLength: null, delivery, contentLength);

        Assert.Equal("a", request.Id);
        Assert.Equal([0.25f, -1f, 300f], request.Inputs[0].Data!);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task HeaderLengthPastTheBody_NamesTheBodysLength(bool contentLength)
    {
        var header = Header(Input("image", "FP32", 8));
        var body = Body(header, new byte[8]);

        var error = await RefusalAsync(body, header.Length + 100, contentLength);

        Assert.Equal(StatusCodes.Status400BadRequest, error.StatusCode);
        Assert.Equal($"Inference-Header-Content-Length is {header.Length + 100}, but the body has only {body.Length} bytes", error.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SizePastTheData_SaysHowManyBytesRemain(bool contentLength)
    {
        // The second input declares 400 bytes; 150 follow the first input's 40.
        var header = Header(Input("a", "FP32", 40), Input("b", "FP32", 400));
        var body = Body(header, new byte[190]);

        var error = await RefusalAsync(body, header.Length, contentLength);

        Assert.Equal("input 'b' declares binary_data_size 400, but only 150 bytes of binary data remain", error.Message);
    }

    [Fact]
    public async Task SizeFarPastTheLimit_IsRefusedForTheMissingData()
    {
        // Nothing of that size is allocated: the body cannot hold it, so its bytes are only counted.
        var header = Header(Input("a", "FP32", 2_000_000_000));
        var body = Body(header, new byte[64]);

        var error = await RefusalAsync(body, header.Length, contentLength: true);

        Assert.Equal("input 'a' declares binary_data_size 2000000000, but only 64 bytes of binary data remain", error.Message);
    }

    [Fact]
    public async Task DataPastTheSizes_CountsAllOfIt()
    {
        var header = Header(Input("a", "FP32", 40));
        var body = Body(header, new byte[57]);

        var error = await RefusalAsync(body, header.Length, contentLength: false);

        Assert.Equal("the body has 57 bytes of binary data after the JSON header, but the inputs' binary_data_size add up to 40", error.Message);
    }

    [Theory]
    [InlineData("FP32", 42, "not a multiple of 4 bytes (FP32)")]
    [InlineData("FP16", 41, "not a multiple of 2 bytes (FP16)")]
    public async Task SizeNotAMultipleOfTheValue_IsRefused(string datatype, int size, string message)
    {
        var header = Header(Input("a", datatype, size));
        var body = Body(header, new byte[size]);

        var error = await RefusalAsync(body, header.Length, contentLength: true);

        Assert.Equal($"input 'a' declares binary_data_size {size}, {message}", error.Message);
    }

    [Fact]
    public async Task UnservedDatatype_IsSkippedWithNoValues()
    {
        var header = Header(Input("a", "INT8", 5), Input("b", "FP32", 4));
        var body = Body(header, [1, 2, 3, 4, 5, .. BitConverter.GetBytes(7.5f)]);

        var request = await ReadAsync(body, header.Length, Delivery.ManySegments, contentLength: true);

        Assert.Empty(request.Inputs[0].Data!);
        Assert.Equal([7.5f], request.Inputs[1].Data!);
    }

    [Theory]
    [InlineData("{\"inputs\":[", true)]
    [InlineData("{\"inputs\":[", false)]
    [InlineData("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":4}}]}", false)]
    public async Task BodyPastTheLimit_Is413_BeforeAnyOtherProblem(string header, bool binary)
    {
        // Without a Content-Length the size is known only by reading: a broken header or data past
        // the sizes must still come back as 413, as it did when the whole body was read first.
        var json = Encoding.UTF8.GetBytes(header);
        var body = Body(json, new byte[Limit]);

        var error = await RefusalAsync(body, binary ? json.Length : null, contentLength: false);

        Assert.Equal(StatusCodes.Status413PayloadTooLarge, error.StatusCode);
        Assert.Equal($"request body is larger than the limit of {Limit} bytes", error.Message);
    }

    [Fact]
    public async Task ContentLengthPastTheLimit_Is413WithoutReading()
    {
        var context = Context(PipeReader.Create(new ReadOnlySequence<byte>(new byte[16])), Limit + 1, headerLength: 4);

        var error = await Assert.ThrowsAsync<ApiException>(() => InferRequestParser.ReadAsync(context.Request, Limit, CancellationToken.None));

        Assert.Equal(StatusCodes.Status413PayloadTooLarge, error.StatusCode);
    }

    [Theory]
    [InlineData(Limit + 1, StatusCodes.Status413PayloadTooLarge)]
    [InlineData(100, StatusCodes.Status400BadRequest)]
    public async Task MalformedHeaderLength_IsRefused_AfterTheLimitIsChecked(long size, int status)
    {
        var context = Context(PipeReader.Create(new ReadOnlySequence<byte>(new byte[size])), length: null, headerLength: null);
        context.Request.Headers[BinaryTensors.Header] = "abc";

        var error = await Assert.ThrowsAsync<ApiException>(() => InferRequestParser.ReadAsync(context.Request, Limit, CancellationToken.None));

        Assert.Equal(status, error.StatusCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(257)]
    [InlineData(1_000)]
    public void Fp16WidenInPlace_GivesTheValuesOfRead(int count)
    {
        var random = new Random(count);
        var halves = new Half[count];
        for (var i = 0; i < count; i++)
        {
            halves[i] = (Half)((random.NextSingle() - 0.5f) * 1_000f);
        }

        var bytes = MemoryMarshal.AsBytes(halves.AsSpan());
        var values = new float[count];
        bytes.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        Fp16Bytes.WidenInPlace(values);

        Assert.Equal(Fp16Bytes.Read(bytes), values);
        Assert.Equal(halves.Select(h => (float)h), values);
    }

    private static string Input(string name, string datatype, long size) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{{\"name\":\"{name}\",\"shape\":[{size}],\"datatype\":\"{datatype}\",\"parameters\":{{\"binary_data_size\":{size}}}}}");

    private static byte[] Header(params string[] inputs) => Encoding.UTF8.GetBytes($"{{\"inputs\":[{string.Join(',', inputs)}]}}");

    private static byte[] Body(byte[] header, byte[] data) => [.. header, .. data];

    private static async Task<InferRequest> ReadAsync(byte[] body, int? headerLength, Delivery delivery, bool contentLength)
    {
        var length = contentLength ? body.Length : (long?)null;
        if (delivery != Delivery.Trickle)
        {
            var reader = delivery == Delivery.ManySegments ? PipeReader.Create(Segments(body)) : new DribblingReader(body);
            return await InferRequestParser.ReadAsync(Context(reader, length, headerLength).Request, Limit, CancellationToken.None);
        }

        var pipe = new Pipe();
        var writing = Task.Run(async () =>
        {
            var random = new Random(2);
            for (var offset = 0; offset < body.Length;)
            {
                var count = Math.Min(body.Length - offset, random.Next(1, 300));
                await pipe.Writer.WriteAsync(body.AsMemory(offset, count));
                offset += count;
            }

            await pipe.Writer.CompleteAsync();
        });
        var request = await InferRequestParser.ReadAsync(Context(pipe.Reader, length, headerLength).Request, Limit, CancellationToken.None);
        await writing;
        return request;
    }

    private static Task<ApiException> RefusalAsync(byte[] body, int? headerLength, bool contentLength) =>
        Assert.ThrowsAsync<ApiException>(() => InferRequestParser.ReadAsync(
            Context(PipeReader.Create(Segments(body)), contentLength ? body.Length : null, headerLength).Request, Limit, CancellationToken.None));

    /// <summary><paramref name="body"/> as a sequence of segments of 1 to 13 bytes.</summary>
    private static ReadOnlySequence<byte> Segments(byte[] body)
    {
        var random = new Random(1);
        Segment? first = null;
        Segment? last = null;
        for (var offset = 0; offset < body.Length;)
        {
            var count = Math.Min(body.Length - offset, random.Next(1, 14));
            var segment = new Segment(body.AsMemory(offset, count), offset);
            first ??= segment;
            last?.Append(segment);
            last = segment;
            offset += count;
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private static DefaultHttpContext Context(PipeReader reader, long? length, int? headerLength)
    {
        var context = new DefaultHttpContext();
        context.Features.Set<IRequestBodyPipeFeature>(new BodyFeature(reader));
        context.Request.ContentLength = length;
        if (headerLength is { } value)
        {
            context.Request.Headers[BinaryTensors.Header] = value.ToString(CultureInfo.InvariantCulture);
        }

        return context;
    }

    private sealed class BodyFeature(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader { get; } = reader;
    }

    /// <summary>Makes 1 to 13 more bytes of <paramref name="body"/> readable with each read.</summary>
    private sealed class DribblingReader(byte[] body) : PipeReader
    {
        private readonly Random _random = new(3);
        private int _consumed;
        private int _readable;

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            _readable = Math.Min(body.Length, _readable + _random.Next(1, 14));
            var buffer = new ReadOnlySequence<byte>(body, _consumed, _readable - _consumed);
            return ValueTask.FromResult(new ReadResult(buffer, isCanceled: false, isCompleted: _readable == body.Length));
        }

        public override bool TryRead(out ReadResult result) => throw new NotSupportedException();

        public override void AdvanceTo(SequencePosition consumed) => _consumed = consumed.GetInteger();

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => AdvanceTo(consumed);

        public override void CancelPendingRead() => throw new NotSupportedException();

        public override void Complete(Exception? exception = null)
        {
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void Append(Segment next) => Next = next;
    }
}
