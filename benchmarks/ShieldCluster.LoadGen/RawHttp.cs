using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace ShieldCluster.LoadGen;

/// <summary>How the HTTP wires send their requests.</summary>
internal enum HttpClientKind
{
    /// <summary>
    /// The generator's own HTTP/1.1 keep-alive client (<see cref="RawHttpConnection"/>): a request is
    /// its prepared head and the slot's body, the answer is parsed in the connection's buffer, and
    /// nothing is allocated per request, so the generator neither collects nor takes the server's cores.
    /// </summary>
    Raw = 0,

    /// <summary>.NET's <see cref="HttpClient"/> (SocketsHttpHandler): a few kilobytes allocated per request.</summary>
    HttpClient = 1,
}

/// <summary>What one request over a <see cref="RawHttpConnection"/> got back.</summary>
/// <param name="Status">The HTTP status code.</param>
/// <param name="BodyBytes">Bytes of the body (chunked: of its chunks' data).</param>
/// <param name="BinaryHeaderLength">The answer's <c>Inference-Header-Content-Length</c>, or -1.</param>
internal readonly record struct RawAnswer(int Status, long BodyBytes, int BinaryHeaderLength);

/// <summary>The server answered something that is not HTTP/1.1 as the generator reads it.</summary>
internal sealed class RawHttpProtocolException(string message) : IOException(message);

/// <summary>
/// One HTTP/1.1 keep-alive connection that sends a request (a head prepared once per key, then
/// <c>Content-Length</c> and the body) and reads the answer's status, length headers and body into
/// a buffer of its own, counting the body's bytes without keeping them. One request at a time; no
/// pipelining. Allocates nothing per request once its buffers exist.
/// </summary>
internal sealed class RawHttpConnection : IDisposable
{
    private const int SendBufferSize = 16 * 1024;
    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    private readonly Stream _stream;
    private readonly byte[] _send = new byte[SendBufferSize];
    private readonly byte[] _receive;
    private readonly CancellationTokenSource _timer = new();
    private CancellationTokenRegistration _phase;
    private int _start;
    private int _end;
    private long _answerBytes;

    /// <summary>A connection over <paramref name="stream"/> (a socket's, or a test's).</summary>
    public RawHttpConnection(Stream stream, int receiveBufferSize = 64 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(receiveBufferSize, 64);
        _stream = stream;
        _receive = new byte[receiveBufferSize];
    }

    /// <summary>Requests sent over this connection.</summary>
    public long Requests { get; private set; }

    /// <summary>Whether the last exchange got not one byte of an answer (a keep-alive connection the server had closed).</summary>
    public bool GotNothing => _answerBytes == 0;

    /// <summary>Whether another request may follow (no <c>Connection: close</c>, no error, the answer read to its end).</summary>
    public bool Reusable { get; private set; } = true;

    /// <summary>Opens a TCP connection to <paramref name="endpoint"/> (Nagle off, as HttpClient's).</summary>
    public static async Task<RawHttpConnection> OpenAsync(EndPoint endpoint, CancellationToken cancellation)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            connect.CancelAfter(TimeSpan.FromSeconds(10));
            await socket.ConnectAsync(endpoint, connect.Token);
            var connection = new RawHttpConnection(new NetworkStream(socket, ownsSocket: true));
            connection.CancelWith(cancellation);
            return connection;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Cancels this connection's requests when <paramref name="cancellation"/> is (once, for its life).</summary>
    public void CancelWith(CancellationToken cancellation)
    {
        if (cancellation.CanBeCanceled)
        {
            _phase = cancellation.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _timer);
        }
    }

    /// <summary>
    /// Sends <paramref name="head"/> (the request line and headers up to, not including,
    /// <c>Content-Length</c>), the body's length and the body, then reads the whole answer.
    /// Throws <see cref="IOException"/> (or <see cref="OperationCanceledException"/> past
    /// <paramref name="timeout"/> or the phase's cancellation) when it gets none; the connection is
    /// then not <see cref="Reusable"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<RawAnswer> ExchangeAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, TimeSpan timeout)
    {
        if (!Reusable)
        {
            throw new InvalidOperationException("the connection is closed");
        }

        Requests++;
        Reusable = false; // until the answer has been read to its end
        _answerBytes = 0;
        _timer.CancelAfter(timeout);
        var token = _timer.Token;
        var length = WriteHead(head.Span, body.Length);
        if (length + body.Length <= _send.Length)
        {
            body.Span.CopyTo(_send.AsSpan(length));
            await _stream.WriteAsync(_send.AsMemory(0, length + body.Length), token);
        }
        else
        {
            await _stream.WriteAsync(_send.AsMemory(0, length), token);
            await _stream.WriteAsync(body, token);
        }

        var answer = await ReadAnswerAsync(token);
        Reusable = _timer.TryReset() && Reusable;
        return answer;
    }

    private int WriteHead(ReadOnlySpan<byte> head, int bodyLength)
    {
        if (head.Length + 64 > _send.Length)
        {
            throw new ArgumentException($"a request head of {head.Length} bytes does not fit the send buffer", nameof(head));
        }

        head.CopyTo(_send);
        var at = head.Length;
        "Content-Length: "u8.CopyTo(_send.AsSpan(at));
        at += 16;
        Utf8Formatter.TryFormat(bodyLength, _send.AsSpan(at), out var digits);
        at += digits;
        HeadEnd.CopyTo(_send.AsSpan(at));
        return at + 4;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<RawAnswer> ReadAnswerAsync(CancellationToken token)
    {
        _start = _end = 0;
        int headEnd;
        while ((headEnd = _receive.AsSpan(_start, _end - _start).IndexOf(HeadEnd)) < 0)
        {
            if (_end == _receive.Length)
            {
                throw new RawHttpProtocolException($"the answer's headers are longer than {_receive.Length} bytes");
            }

            await FillAsync("the server closed the connection before its answer's headers ended", token);
        }

        var head = ParseHead(_receive.AsSpan(_start, headEnd));
        _start += headEnd + HeadEnd.Length;
        long body;
        if (head.Chunked)
        {
            body = await ReadChunkedAsync(token);
        }
        else if (head.ContentLength >= 0)
        {
            await SkipAsync(head.ContentLength, token);
            body = head.ContentLength;
        }
        else
        {
            // Neither a length nor chunks: the body ends when the server closes the connection.
            body = _end - _start;
            int read;
            while ((read = await _stream.ReadAsync(_receive, token)) > 0)
            {
                _answerBytes += read;
                body += read;
            }

            return new RawAnswer(head.Status, body, head.BinaryHeaderLength);
        }

        if (_start != _end)
        {
            throw new RawHttpProtocolException($"{_end - _start} bytes followed the answer's body (a request is never pipelined)");
        }

        Reusable = !head.Close;
        return new RawAnswer(head.Status, body, head.BinaryHeaderLength);
    }

    /// <summary>The status line and the headers this client reads (names in any case).</summary>
    internal static Head ParseHead(ReadOnlySpan<byte> head)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var statusLine = lineEnd < 0 ? head : head[..lineEnd];
        // "HTTP/1.1 200 OK": the version, one space, three digits, then a space or the line's end.
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || statusLine[8] != (byte)' '
            || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out var used) || used != 3
            || (statusLine.Length > 12 && statusLine[12] != (byte)' '))
        {
            throw new RawHttpProtocolException($"not an HTTP/1.x status line: '{Printable(statusLine)}'");
        }

        var result = new Head { Status = status };
        var rest = lineEnd < 0 ? [] : head[(lineEnd + 2)..];
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf("\r\n"u8);
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw new RawHttpProtocolException($"a header line without a name: '{Printable(line)}'");
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ').Trim((byte)'\t');
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                result.ContentLength = Utf8Parser.TryParse(value, out long n, out var digits) && digits == value.Length && n >= 0
                    ? n
                    : throw new RawHttpProtocolException($"Content-Length is not a length: '{Printable(value)}'");
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                result.Chunked = Ascii.EqualsIgnoreCase(value, "chunked"u8)
                    ? true
                    : throw new RawHttpProtocolException($"Transfer-Encoding '{Printable(value)}' is not read by this client");
            }
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                result.Close |= Ascii.EqualsIgnoreCase(value, "close"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, InferTransport.BinaryHeaderUtf8))
            {
                result.BinaryHeaderLength = Utf8Parser.TryParse(value, out int n, out var digits) && digits == value.Length && n >= 0 ? n : -1;
            }
        }

        if (result.Chunked && result.ContentLength >= 0)
        {
            throw new RawHttpProtocolException("an answer with both Content-Length and Transfer-Encoding: chunked");
        }

        return result;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<long> ReadChunkedAsync(CancellationToken token)
    {
        long body = 0;
        while (true)
        {
            var line = await ReadLineAsync(token);
            // The size in hex, then optional extensions after ';'.
            var sizeEnd = line.Span.IndexOf((byte)';');
            var sizeText = (sizeEnd < 0 ? line.Span : line.Span[..sizeEnd]).Trim((byte)' ');
            if (!Utf8Parser.TryParse(sizeText, out long size, out var used, 'X') || used != sizeText.Length || size < 0)
            {
                throw new RawHttpProtocolException($"a chunk size that is not hexadecimal: '{Printable(line.Span)}'");
            }

            if (size == 0)
            {
                // Trailers, if any, up to the empty line.
                while ((await ReadLineAsync(token)).Length > 0)
                {
                }

                return body;
            }

            await SkipAsync(size, token);
            body += size;
            if ((await ReadLineAsync(token)).Length != 0)
            {
                throw new RawHttpProtocolException("a chunk's data did not end with CRLF");
            }
        }
    }

    /// <summary>The next line (without its CRLF) from the buffer, reading more as needed; valid until the next read.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadOnlyMemory<byte>> ReadLineAsync(CancellationToken token)
    {
        int end;
        while ((end = _receive.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
        {
            if (_start == 0 && _end == _receive.Length)
            {
                throw new RawHttpProtocolException($"a chunk line longer than {_receive.Length} bytes");
            }

            await FillAsync("the server closed the connection inside a chunked body", token);
        }

        var line = _receive.AsMemory(_start, end);
        _start += end + 2;
        return line;
    }

    /// <summary>Consumes <paramref name="count"/> bytes of the body, reading and dropping them.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SkipAsync(long count, CancellationToken token)
    {
        while (true)
        {
            var buffered = _end - _start;
            if (buffered >= count)
            {
                _start += (int)count;
                return;
            }

            count -= buffered;
            _start = _end = 0;
            await FillAsync("the server closed the connection before the answer's body ended", token);
        }
    }

    /// <summary>Reads more bytes after those buffered, moving the unread ones to the buffer's start first when needed.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillAsync(string closedMessage, CancellationToken token)
    {
        if (_end == _receive.Length && _start > 0)
        {
            _receive.AsSpan(_start, _end - _start).CopyTo(_receive);
            _end -= _start;
            _start = 0;
        }

        var read = await _stream.ReadAsync(_receive.AsMemory(_end), token);
        if (read == 0)
        {
            throw new EndOfStreamException(closedMessage);
        }

        _end += read;
        _answerBytes += read;
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.ASCII.GetString(bytes[..Math.Min(bytes.Length, 80)]);
        return string.Concat(text.Select(c => c is >= ' ' and <= '~' ? c : '?'));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Reusable = false;
        _phase.Dispose();
        _stream.Dispose();
        _timer.Dispose();
    }

    /// <summary>What the head of an answer says.</summary>
    internal struct Head
    {
        public Head()
        {
        }

        public int Status { get; set; }

        public long ContentLength { get; set; } = -1;

        public bool Chunked { get; set; }

        public bool Close { get; set; }

        public int BinaryHeaderLength { get; set; } = -1;
    }
}

/// <summary>
/// Connections to one server for many concurrent requests: a request takes an idle connection or
/// opens one, and gives it back when its answer was read to the end. A request whose reused
/// connection turns out closed by the server before any answer (a keep-alive timeout) is sent once
/// more on a new one, as HttpClient does.
/// </summary>
internal sealed class RawHttpPool(EndPoint endpoint) : IDisposable
{
    private readonly ConcurrentBag<RawHttpConnection> _idle = [];
    private readonly ConcurrentDictionary<RawHttpConnection, byte> _all = [];
    private volatile bool _disposed;

    /// <summary>Connections open now (idle or in use).</summary>
    public int Open => _all.Count;

    /// <summary>Sends one request; see <see cref="RawHttpConnection.ExchangeAsync"/> for what it throws.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<RawAnswer> SendAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, TimeSpan timeout, CancellationToken cancellation)
    {
        for (var attempt = 0; ; attempt++)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var reused = _idle.TryTake(out var connection);
            if (!reused)
            {
                connection = await RawHttpConnection.OpenAsync(endpoint, cancellation);
                _all[connection] = 0;
            }

            try
            {
                var answer = await connection!.ExchangeAsync(head, body, timeout);
                if (connection.Reusable && !_disposed)
                {
                    _idle.Add(connection);
                }
                else
                {
                    Close(connection);
                }

                return answer;
            }
            catch (IOException) when (reused && attempt == 0 && connection!.GotNothing && !cancellation.IsCancellationRequested)
            {
                Close(connection!);
            }
            catch
            {
                Close(connection!);
                throw;
            }
        }
    }

    private void Close(RawHttpConnection connection)
    {
        _all.TryRemove(connection, out _);
        connection.Dispose();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _disposed = true;
        foreach (var connection in _all.Keys)
        {
            Close(connection);
        }
    }
}
