using System.Buffers;

namespace ShieldCluster.Server.Http;

/// <summary>Reads a request body into a pooled buffer, refusing with 413 past the limit.</summary>
public sealed class RequestBody : IDisposable
{
    // Bodies of large tensors (a 224x224x3 FP32 image is 602 KB) come from a pool of their own that
    // keeps enough arrays for hundreds of concurrent requests; the shared pool keeps only a few per
    // core of each size, and every miss is a fresh large-object allocation.
    private static readonly ArrayPool<byte> Large = ArrayPool<byte>.Create(1 << 26, 512);
    private const int LargeFrom = 64 * 1024;

    private byte[] _buffer;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    /// <summary>Bytes read.</summary>
    public int Length { get; }

    /// <summary>The body.</summary>
    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    /// <summary>Reads the whole body; 413 when it is larger than <paramref name="limit"/> bytes.</summary>
    public static async Task<RequestBody> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        var capacity = (int)Math.Min(limit + 1, request.ContentLength ?? 16 * 1024);
        var buffer = Pool(capacity).Rent(Math.Max(capacity, 1024));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        throw TooLarge(limit);
                    }

                    var size = (int)Math.Min(limit + 1, (long)buffer.Length * 2);
                    var larger = Pool(size).Rent(size);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    Pool(buffer.Length).Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    throw TooLarge(limit);
                }
            }

            return new RequestBody(buffer, length);
        }
        catch
        {
            Pool(buffer.Length).Return(buffer);
            throw;
        }
    }

    private static ArrayPool<byte> Pool(int length) => length >= LargeFrom ? Large : ArrayPool<byte>.Shared;

    private static ApiException TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, $"request body is larger than the limit of {limit} bytes");

    /// <inheritdoc />
    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            Pool(_buffer.Length).Return(_buffer);
            _buffer = [];
        }
    }
}
