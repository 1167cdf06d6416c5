using System.Buffers.Binary;
using System.IO.Compression;

namespace ShieldCluster.RedTeam.Data;

/// <summary>
/// Reads the IDX format of the MNIST family (optionally gzip-compressed): a big-endian header
/// (two zero bytes, a type code, the number of dimensions, each dimension as a 32-bit integer)
/// followed by the values. Only unsigned bytes (type 0x08) are supported, which is what
/// Fashion-MNIST ships.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByte = 0x08;

    /// <summary>Reads an IDX file; gzip is detected from its magic bytes, not its name.</summary>
    /// <returns>The dimensions and the raw values, row-major.</returns>
    public static (int[] Dimensions, byte[] Values) ReadFile(string path)
    {
        using var file = File.OpenRead(path);
        return Read(file);
    }

    /// <summary>Reads an IDX stream (plain or gzip).</summary>
    public static (int[] Dimensions, byte[] Values) Read(Stream stream)
    {
        var seekable = stream;
        if (!stream.CanSeek)
        {
            seekable = new MemoryStream();
            stream.CopyTo(seekable);
            seekable.Position = 0;
        }

        var start = seekable.Position;
        var first = seekable.ReadByte();
        var second = seekable.ReadByte();
        seekable.Position = start;
        if (first == 0x1f && second == 0x8b)
        {
            using var gzip = new GZipStream(seekable, CompressionMode.Decompress, leaveOpen: true);
            return ReadPlain(gzip);
        }

        return ReadPlain(seekable);
    }

    private static (int[] Dimensions, byte[] Values) ReadPlain(Stream stream)
    {
        Span<byte> header = stackalloc byte[4];
        stream.ReadExactly(header);
        if (header[0] != 0 || header[1] != 0)
        {
            throw new InvalidDataException("not an IDX file: the first two bytes must be zero");
        }

        if (header[2] != UnsignedByte)
        {
            throw new InvalidDataException($"unsupported IDX value type 0x{header[2]:x2}; only unsigned bytes (0x08) are read");
        }

        int rank = header[3];
        if (rank is < 1 or > 4)
        {
            throw new InvalidDataException($"unsupported IDX rank {rank}");
        }

        var dimensions = new int[rank];
        long total = 1;
        Span<byte> dimension = stackalloc byte[4];
        for (var i = 0; i < rank; i++)
        {
            stream.ReadExactly(dimension);
            var size = BinaryPrimitives.ReadInt32BigEndian(dimension);
            if (size < 0)
            {
                throw new InvalidDataException($"negative IDX dimension {size}");
            }

            dimensions[i] = size;
            total *= size;
        }

        if (total > Array.MaxLength)
        {
            throw new InvalidDataException($"IDX file too large ({total} values)");
        }

        var values = new byte[total];
        stream.ReadExactly(values);
        return (dimensions, values);
    }
}
