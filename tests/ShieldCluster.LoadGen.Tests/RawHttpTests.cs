using System.Net;
using System.Net.Sockets;
using System.Text;
using ShieldCluster.LoadGen;

namespace ShieldCluster.LoadGen.Tests;

/// <summary>
/// The load generator's own HTTP/1.1 client: what it writes, and how it reads answers that come in
/// any split (a scripted stream: these tests are about the parsing), and its pool over real sockets
/// against a scripted server. The client against the real server is in <see cref="SmokeTests"/>
/// (every HTTP phase uses it) and in the generator's own check before each phase.
/// </summary>
public class RawHttpTests
{
    private static readonly byte[] Head = "POST /v2/models/m/infer HTTP/1.1\r\nHost: h:1\r\nAuthorization: Bearer k\r\n"u8.ToArray();
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>A stream that answers with <c>answer</c>'s bytes, <c>split</c> at a time, then end of stream, and records what was written.</summary>
    private sealed class ScriptedStream(byte[] answer, int split) : Stream
    {
        private int _at;

        public MemoryStream Written { get; } = new();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public byte[] Answer { get; set; } = answer;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = Math.Min(Math.Min(split, buffer.Length), Answer.Length - _at);
            Answer.AsSpan(_at, n).CopyTo(buffer.Span);
            _at += n;
            return ValueTask.FromResult(n);
        }

        public void Next(byte[] answer)
        {
            Answer = answer;
            _at = 0;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Written.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>A stream whose reads wait until cancelled (a server that never answers).</summary>
    private sealed class SilentStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
            return 0;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private static byte[] Body(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 7))];

    public static TheoryData<int> Splits => [1, 2, 3, 7, 64, 100_000];

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task A_length_delimited_binary_answer_is_read_whole_in_any_split(int split)
    {
        var header = Ascii("{\"outputs\":[]}");
        var answer = Concat(Ascii("HTTP/1.1 200 OK\r\ncontent-length: " + (header.Length + 4000) + "\r\nINFERENCE-HEADER-CONTENT-LENGTH: "
            + header.Length + "\r\nContent-Type: application/octet-stream\r\n\r\n"), header, Body(4000));
        var stream = new ScriptedStream(answer, split);
        using var connection = new RawHttpConnection(stream);
        var body = Body(300);

        var got = await connection.ExchangeAsync(Head, body, Timeout);

        Assert.Equal(new RawAnswer(200, header.Length + 4000, header.Length), got);
        Assert.True(connection.Reusable);
        Assert.Equal(Concat(Head, Ascii("Content-Length: 300\r\n\r\n"), body), stream.Written.ToArray());
    }

    [Fact]
    public async Task A_body_larger_than_the_send_buffer_is_written_after_the_head_unchanged()
    {
        var stream = new ScriptedStream(Ascii("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 1000);
        using var connection = new RawHttpConnection(stream);
        var body = Body(602_112);

        var got = await connection.ExchangeAsync(Head, body, Timeout);

        Assert.Equal(200, got.Status);
        Assert.Equal(0, got.BodyBytes);
        Assert.Equal(Concat(Head, Ascii("Content-Length: 602112\r\n\r\n"), body), stream.Written.ToArray());
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task A_chunked_answer_counts_its_chunks_data_and_skips_extensions_and_trailers(int split)
    {
        var answer = Concat(
            Ascii("HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\nRetry-After: 1\r\n\r\n"),
            Ascii("1a\r\n"), Body(0x1a), Ascii("\r\n"),
            Ascii("3;name=value\r\n"), Body(3), Ascii("\r\n"),
            Ascii("FFF\r\n"), Body(0xfff), Ascii("\r\n"),
            Ascii("0\r\nX-Trailer: yes\r\n\r\n"));
        using var connection = new RawHttpConnection(new ScriptedStream(answer, split), receiveBufferSize: 256);

        var got = await connection.ExchangeAsync(Head, Body(10), Timeout);

        Assert.Equal(new RawAnswer(503, 0x1a + 3 + 0xfff, -1), got);
        Assert.True(connection.Reusable);
    }

    [Fact]
    public async Task Answers_follow_each_other_on_one_connection()
    {
        var stream = new ScriptedStream(Ascii("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), 3);
        using var connection = new RawHttpConnection(stream);

        var first = await connection.ExchangeAsync(Head, Body(1), Timeout);
        stream.Next(Ascii("HTTP/1.1 429 Too Many Requests\r\nContent-Length: 2\r\n\r\nno"));
        var second = await connection.ExchangeAsync(Head, Body(2), Timeout);

        Assert.Equal(new RawAnswer(200, 5, -1), first);
        Assert.Equal(new RawAnswer(429, 2, -1), second);
        Assert.Equal(2, connection.Requests);
        Assert.True(connection.Reusable);
    }

    [Fact]
    public async Task Connection_close_ends_the_connection_after_its_answer()
    {
        using var connection = new RawHttpConnection(new ScriptedStream(Ascii("HTTP/1.1 400 Bad Request\r\nConnection: Close\r\nContent-Length: 3\r\n\r\nbad"), 100));

        var got = await connection.ExchangeAsync(Head, Body(1), Timeout);

        Assert.Equal(new RawAnswer(400, 3, -1), got);
        Assert.False(connection.Reusable);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await connection.ExchangeAsync(Head, Body(1), Timeout));
    }

    [Fact]
    public async Task An_answer_without_a_length_ends_with_the_connection()
    {
        using var connection = new RawHttpConnection(new ScriptedStream(Ascii("HTTP/1.0 200 OK\r\n\r\n0123456789"), 4));

        var got = await connection.ExchangeAsync(Head, Body(1), Timeout);

        Assert.Equal(new RawAnswer(200, 10, -1), got);
        Assert.False(connection.Reusable);
    }

    [Theory]
    [InlineData("HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/2 200\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 4x\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n0\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabEXTRA")]
    public async Task An_answer_that_is_not_HTTP_as_read_here_is_a_protocol_error_and_ends_the_connection(string answer)
    {
        using var connection = new RawHttpConnection(new ScriptedStream(Ascii(answer), 1000));

        await Assert.ThrowsAsync<RawHttpProtocolException>(async () => await connection.ExchangeAsync(Head, Body(1), Timeout));

        Assert.False(connection.Reusable);
    }

    [Fact]
    public async Task Headers_longer_than_the_buffer_are_a_protocol_error()
    {
        var answer = Ascii("HTTP/1.1 200 OK\r\nX-Long: " + new string('a', 500) + "\r\nContent-Length: 0\r\n\r\n");
        using var connection = new RawHttpConnection(new ScriptedStream(answer, 1000), receiveBufferSize: 256);

        await Assert.ThrowsAsync<RawHttpProtocolException>(async () => await connection.ExchangeAsync(Head, Body(1), Timeout));
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Le", false)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", false)]
    public async Task A_connection_closed_before_the_answer_ended_throws_end_of_stream(string answer, bool nothing)
    {
        using var connection = new RawHttpConnection(new ScriptedStream(Ascii(answer), 2));

        await Assert.ThrowsAsync<EndOfStreamException>(async () => await connection.ExchangeAsync(Head, Body(1), Timeout));

        Assert.Equal(nothing, connection.GotNothing);
        Assert.False(connection.Reusable);
    }

    [Fact]
    public async Task A_server_that_never_answers_times_out_and_the_connection_is_not_reused()
    {
        using var connection = new RawHttpConnection(new SilentStream());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await connection.ExchangeAsync(Head, Body(1), TimeSpan.FromMilliseconds(50)));

        Assert.False(connection.Reusable);
    }

    [Fact]
    public async Task The_phase_cancellation_stops_a_waiting_request()
    {
        using var phase = new CancellationTokenSource();
        using var connection = new RawHttpConnection(new SilentStream());
        connection.CancelWith(phase.Token);

        var exchange = connection.ExchangeAsync(Head, Body(1), Timeout).AsTask();
        phase.CancelAfter(50);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => exchange);
    }

    /// <summary>
    /// A real socket server that reads one request (head and Content-Length body) per connection,
    /// answers it, then closes that connection only when <paramref name="closeAfterAnswer"/> says,
    /// without a Connection: close header (as a server's keep-alive timeout does).
    /// </summary>
    private static async Task ServeAsync(TcpListener listener, Func<int, bool> closeAfterAnswer, List<int> requestsPerConnection, CancellationToken cancellation)
    {
        var connections = 0;
        while (!cancellation.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(cancellation);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var index = connections++;
            lock (requestsPerConnection)
            {
                requestsPerConnection.Add(0);
            }

            _ = Task.Run(async () =>
            {
                using var s = socket;
                using var stream = new NetworkStream(s);
                var buffer = new byte[1 << 16];
                var have = 0;
                while (true)
                {
                    int headEnd;
                    while ((headEnd = buffer.AsSpan(0, have).IndexOf("\r\n\r\n"u8)) < 0)
                    {
                        var n = await stream.ReadAsync(buffer.AsMemory(have), cancellation);
                        if (n == 0)
                        {
                            return;
                        }

                        have += n;
                    }

                    var head = Encoding.ASCII.GetString(buffer, 0, headEnd);
                    var length = int.Parse(head.Split("\r\n").Single(l => l.StartsWith("Content-Length: ", StringComparison.Ordinal))["Content-Length: ".Length..],
                        System.Globalization.CultureInfo.InvariantCulture);
                    while (have < headEnd + 4 + length)
                    {
                        have += await stream.ReadAsync(buffer.AsMemory(have), cancellation);
                    }

                    have = 0;
                    int count;
                    lock (requestsPerConnection)
                    {
                        count = ++requestsPerConnection[index];
                    }

                    await stream.WriteAsync(Ascii($"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n" + new string('x', length)), cancellation);
                    if (closeAfterAnswer(count))
                    {
                        s.Shutdown(SocketShutdown.Both);
                        return;
                    }
                }
            }, cancellation);
        }
    }

    /// <summary>Runs <paramref name="test"/> with a pool to a scripted server (see <see cref="ServeAsync"/>) and the requests each of its connections served.</summary>
    private static async Task WithServerAsync(Func<int, bool> closeAfterAnswer, Func<RawHttpPool, List<int>, Task> test)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var requests = new List<int>();
        var server = ServeAsync(listener, closeAfterAnswer, requests, stop.Token);
        using var pool = new RawHttpPool(listener.LocalEndpoint);
        try
        {
            await test(pool, requests);
        }
        finally
        {
            await stop.CancelAsync();
            listener.Stop();
            await server;
        }
    }

    [Fact]
    public Task The_pool_reuses_connections_and_resends_once_on_one_the_server_closed() =>
        // Each connection is closed after its second answer, with no word to the client.
        WithServerAsync(count => count == 2, async (pool, requests) =>
        {
            var answers = new List<RawAnswer>();
            for (var i = 0; i < 5; i++)
            {
                answers.Add(await pool.SendAsync(Head, Body(10 + i), Timeout, CancellationToken.None));
                // Let the server's close reach the client before the next request takes the connection.
                await Task.Delay(50);
            }

            Assert.Equal([.. Enumerable.Range(0, 5).Select(i => new RawAnswer(200, 10 + i, -1))], answers);
            lock (requests)
            {
                // Requests 1-2 on the first connection; the third found it closed and went on a second, and so on.
                Assert.Equal([2, 2, 1], requests);
            }

            Assert.Equal(1, pool.Open);
        });

    [Fact]
    public Task The_pool_opens_a_connection_per_concurrent_request_and_no_more() =>
        WithServerAsync(_ => false, async (pool, requests) =>
        {
            for (var round = 0; round < 3; round++)
            {
                var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => pool.SendAsync(Head, Body(i), Timeout, CancellationToken.None).AsTask()));
                Assert.Equal([.. Enumerable.Range(0, 8)], answers.Select(a => (int)a.BodyBytes).Order());
                Assert.All(answers, a => Assert.Equal(200, a.Status));
            }

            Assert.InRange(pool.Open, 1, 8);
            lock (requests)
            {
                Assert.Equal(24, requests.Sum());
                Assert.Equal(pool.Open, requests.Count);
            }
        });

    [Fact]
    public async Task The_pool_reports_a_refused_connection_as_a_socket_error()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endpoint = listener.LocalEndpoint;
        listener.Stop();
        using var pool = new RawHttpPool(endpoint);

        await Assert.ThrowsAsync<SocketException>(async () => await pool.SendAsync(Head, Body(1), Timeout, CancellationToken.None));
        Assert.Equal(0, pool.Open);
    }
}
