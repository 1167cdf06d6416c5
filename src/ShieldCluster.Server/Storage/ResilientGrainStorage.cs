using System.Net.Sockets;
using Orleans.Storage;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using StackExchange.Redis;

namespace ShieldCluster.Server.Storage;

/// <summary>
/// Grain storage behind a Polly pipeline: transient store failures are retried with jittered
/// exponential backoff, and a circuit breaker stops a silo from queueing calls at a store that is
/// down. What still fails surfaces as <see cref="OrleansException"/> ("the store is unavailable"):
/// a grain whose state cannot be loaded does not activate (its clients are refused with 503 unless
/// the server fails open), and a write that fails stays in the grain's memory for its next flush.
/// Optimistic-concurrency conflicts are never retried: they mean another activation wrote first.
/// </summary>
public sealed class ResilientGrainStorage(IGrainStorage inner, ResiliencePipeline pipeline) : IGrainStorage
{
    /// <summary>The pipeline storage calls run through: 3 retries from 50 ms, a breaker that opens for 5 s.</summary>
    public static ResiliencePipeline CreatePipeline(TimeProvider time, Action<string>? onStateChange = null)
    {
        var handled = new PredicateBuilder().Handle<Exception>(IsTransient);
        return new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = handled,
                FailureRatio = 0.5,
                MinimumThroughput = 8,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = TimeSpan.FromSeconds(5),
                OnOpened = _ => { onStateChange?.Invoke("open"); return ValueTask.CompletedTask; },
                OnClosed = _ => { onStateChange?.Invoke("closed"); return ValueTask.CompletedTask; },
            })
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = handled,
                MaxRetryAttempts = 3,
                Delay = TimeSpan.FromMilliseconds(50),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            })
            .Build();
    }

    /// <summary>Whether <paramref name="ex"/> is the store's transient trouble (not a conflict, not a bug).</summary>
    public static bool IsTransient(Exception ex) => ex is RedisException or TimeoutException or SocketException or IOException;

    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        RunAsync(ct => new ValueTask(inner.ReadStateAsync(stateName, grainId, grainState)), "read", stateName, grainId, CancellationToken.None);

    /// <inheritdoc />
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        RunAsync(ct => new ValueTask(inner.WriteStateAsync(stateName, grainId, grainState)), "write", stateName, grainId, CancellationToken.None);

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        RunAsync(ct => new ValueTask(inner.ClearStateAsync(stateName, grainId, grainState)), "clear", stateName, grainId, CancellationToken.None);

    private async Task RunAsync(Func<CancellationToken, ValueTask> call, string operation, string stateName, GrainId grainId, CancellationToken cancellationToken)
    {
        try
        {
            await pipeline.ExecuteAsync(call, cancellationToken);
        }
        catch (Exception ex) when (ex is BrokenCircuitException || IsTransient(ex))
        {
            throw new OrleansException($"grain storage unavailable: {operation} of {stateName} for {grainId} failed ({ex.GetType().Name}: {ex.Message})", ex);
        }
    }
}
