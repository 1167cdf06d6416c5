using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace ShieldCluster.Testing;

/// <summary>
/// A real redis-server on a free loopback port, in its own temporary folder; it can be stopped and
/// started again on the same port (a Redis outage) and speaks enough RESP for the tests' own checks.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("shield-redis-").FullName;
    private Process? _process;

    private RedisServer(int port) => Port = port;

    public int Port { get; }

    /// <summary>The StackExchange.Redis connection string.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer(ServerProcess.FreePort());
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts redis-server (again) on <see cref="Port"/> and waits for PONG.</summary>
    public async Task StartAgainAsync()
    {
        var info = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = _folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", _folder })
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info)!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                if (await CommandAsync("PING") == "+PONG")
                {
                    return;
                }
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Stops the server (its append-only file keeps the data for <see cref="StartAgainAsync"/>).</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            await CommandAsync("SHUTDOWN", "SAVE").ContinueWith(_ => { }, TaskScheduler.Default);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }
        }
    }

    /// <summary>Sends one command and returns the first line of the reply (bulk replies: their value).</summary>
    public async Task<string?> CommandAsync(params string[] arguments)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port);
        var stream = client.GetStream();
        var request = new StringBuilder().Append('*').Append(arguments.Length).Append("\r\n");
        foreach (var argument in arguments)
        {
            request.Append('$').Append(Encoding.UTF8.GetByteCount(argument)).Append("\r\n").Append(argument).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var line = await reader.ReadLineAsync();
        if (line is not null && line.StartsWith('$'))
        {
            return line == "$-1" ? null : await reader.ReadLineAsync();
        }

        return line;
    }

    /// <summary>A hash field's raw bytes, or null when the key or field is missing.</summary>
    public async Task<byte[]?> HashGetBytesAsync(string key, string field)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port);
        var stream = client.GetStream();
        var request = $"*3\r\n$4\r\nHGET\r\n${Encoding.UTF8.GetByteCount(key)}\r\n{key}\r\n${Encoding.UTF8.GetByteCount(field)}\r\n{field}\r\n";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request));
        var header = new StringBuilder();
        while (true)
        {
            var b = stream.ReadByte();
            if (b < 0)
            {
                throw new EndOfStreamException("redis closed the connection");
            }

            if (b == '\n')
            {
                break;
            }

            if (b != '\r')
            {
                header.Append((char)b);
            }
        }

        var text = header.ToString();
        if (text == "$-1")
        {
            return null;
        }

        if (!text.StartsWith('$'))
        {
            throw new InvalidOperationException($"HGET {key} {field} failed: {text}");
        }

        var value = new byte[int.Parse(text.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture)];
        await stream.ReadExactlyAsync(value);
        return value;
    }

    /// <summary>Sets hash fields to raw bytes (for state written by an earlier release).</summary>
    public async Task HashSetAsync(string key, params (string Field, byte[] Value)[] fields)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port);
        var stream = client.GetStream();
        using var request = new MemoryStream();
        void Write(byte[] bytes)
        {
            request.Write(Encoding.ASCII.GetBytes($"${bytes.Length}\r\n"));
            request.Write(bytes);
            request.Write("\r\n"u8);
        }

        request.Write(Encoding.ASCII.GetBytes($"*{2 + (2 * fields.Length)}\r\n"));
        Write("HSET"u8.ToArray());
        Write(Encoding.UTF8.GetBytes(key));
        foreach (var (field, value) in fields)
        {
            Write(Encoding.UTF8.GetBytes(field));
            Write(value);
        }

        await stream.WriteAsync(request.ToArray());
        var reply = new byte[64];
        var read = await stream.ReadAsync(reply);
        var text = Encoding.ASCII.GetString(reply, 0, read);
        if (!text.StartsWith(':'))
        {
            throw new InvalidOperationException($"HSET {key} failed: {text}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    private static string Executable =>
        File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server"
        : throw new InvalidOperationException("redis-server is missing: scripts/test.sh installs Debian's redis-server");
}
