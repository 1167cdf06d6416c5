using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using ShieldCluster.Server.Http;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// The access log: the configured console formatter and levels, no scopes, batched writes, what is
/// queued written at dispose, and lines past the bound dropped and counted, never waited for.
/// </summary>
public sealed class AccessLogTests
{
    private static IConfiguration Logging(params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:Console:FormatterName"] = "simple",
            ["Logging:Console:FormatterOptions:SingleLine"] = "true",
            ["Logging:Console:FormatterOptions:IncludeScopes"] = "true",
            ["Logging:Console:FormatterOptions:ColorBehavior"] = "Disabled",
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    [Fact]
    public void Lines_UseTheConfiguredFormatter_WithoutScopes_AndAreAllWrittenByDispose()
    {
        var output = new StringWriter();
        var log = new AccessLog(Logging(), output);
        using (log.Logger.BeginScope("Outer:{Value}", "scope-value"))
        {
            for (var i = 0; i < 500; i++)
            {
                log.Logger.LogInformation("GET /v2 200 client c{Index} RequestId:r{Index}", i, i);
            }
        }

        log.Dispose();
        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(500, lines.Length);
        Assert.Equal("info: ShieldCluster.Access[0] GET /v2 200 client c0 RequestId:r0", lines[0]);
        Assert.Equal("info: ShieldCluster.Access[0] GET /v2 200 client c499 RequestId:r499", lines[^1]);
        Assert.DoesNotContain("scope-value", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void JsonFormatter_WritesTheStructuredFields()
    {
        var output = new StringWriter();
        var log = new AccessLog(Logging(("Logging:Console:FormatterName", "json"), ("Logging:Console:FormatterOptions:SingleLine", "false")), output);
        log.Logger.LogInformation("GET {Path} {StatusCode}", "/v2/health/ready", 200);
        log.Dispose();

        using var line = System.Text.Json.JsonDocument.Parse(output.ToString());
        Assert.Equal("ShieldCluster.Access", line.RootElement.GetProperty("Category").GetString());
        Assert.Equal(200, line.RootElement.GetProperty("State").GetProperty("StatusCode").GetInt32());
        Assert.False(line.RootElement.TryGetProperty("Scopes", out var scopes) && scopes.GetArrayLength() > 0);
    }

    [Theory]
    [InlineData("Logging:LogLevel:ShieldCluster.Access")]
    [InlineData("Logging:Console:LogLevel:ShieldCluster.Access")]
    public void RaisedLevel_SilencesIt(string key)
    {
        var output = new StringWriter();
        var log = new AccessLog(Logging((key, "Warning")), output);
        Assert.False(log.Logger.IsEnabled(LogLevel.Information));
        log.Logger.LogInformation("GET /v2 200");
        log.Logger.LogWarning("kept");
        log.Dispose();
        Assert.Equal("warn: ShieldCluster.Access[0] kept" + Environment.NewLine, output.ToString());
    }

    [Fact]
    public async Task LinesWrittenInBatches_NotOneWritePerLine()
    {
        var output = new CountingWriter();
        var log = new AccessLog(Logging(), output);
        for (var i = 0; i < 1000; i++)
        {
            log.Logger.LogInformation("line {Index}", i);
        }

        await WaitForAsync(() => output.Lines >= 1000);
        log.Dispose();
        Assert.Equal(1000, output.Lines);
        Assert.True(output.Writes <= 20, $"{output.Writes} writes for 1000 lines");
    }

    [Fact]
    public async Task BlockedConsole_LinesPastTheBound_AreDroppedAndCounted_NotWaitedFor()
    {
        var output = new BlockingWriter();
        var log = new AccessLog(Logging(), output);
        log.Logger.LogInformation("first");
        Assert.True(output.Entered.Wait(TimeSpan.FromSeconds(10)), "the writer never wrote");

        // The writer is stuck in its write: the bound's worth of lines queue, the rest are dropped.
        var started = DateTime.UtcNow;
        for (var i = 0; i < AccessLog.MaxQueuedLines + 7; i++)
        {
            log.Logger.LogInformation("queued {Index}", i);
        }

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "logging waited for the console");
        Assert.Equal(7, log.Dropped);
        output.Release.Set();
        log.Dispose();
        Assert.Equal(7, log.Dropped);

        var text = output.ToString();
        var lines = text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1 + AccessLog.MaxQueuedLines + 1, lines.Length);
        Assert.Contains($"queued {AccessLog.MaxQueuedLines - 1}", text, StringComparison.Ordinal);
        Assert.DoesNotContain($"queued {AccessLog.MaxQueuedLines}{Environment.NewLine}", text, StringComparison.Ordinal);
        Assert.Equal($"warn: ShieldCluster.Access[2] 7 access-log lines dropped: more than {AccessLog.MaxQueuedLines} were waiting to be written", lines[^1]);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    private sealed class CountingWriter : StringWriter
    {
        private int _writes;
        private int _lines;

        public int Writes => Volatile.Read(ref _writes);

        public int Lines => Volatile.Read(ref _lines);

        public override void Write(char[] buffer, int index, int count)
        {
            lock (this)
            {
                base.Write(buffer, index, count);
            }

            Interlocked.Increment(ref _writes);
            Interlocked.Add(ref _lines, buffer.AsSpan(index, count).Count('\n'));
        }

        public override string ToString()
        {
            lock (this)
            {
                return base.ToString();
            }
        }
    }

    private sealed class BlockingWriter : StringWriter
    {
        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char[] buffer, int index, int count)
        {
            Entered.Set();
            Release.Wait(TimeSpan.FromSeconds(30));
            base.Write(buffer, index, count);
        }
    }
}
