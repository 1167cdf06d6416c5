using System.Threading.Channels;

namespace ShieldCluster.Inference.Batching;

/// <summary>
/// Dynamic batching for one model version, as Triton's <c>dynamic_batching</c>: requests from any
/// client queue here and are run together, up to <see cref="BatchingSettings.MaxBatchSize"/> items
/// per model call, by <see cref="BatchingSettings.ConcurrentBatches"/> runners (several batches in
/// flight) plus <see cref="BatchingSettings.StagedAhead"/> that prepare the next batches while those
/// run (the runner delegate bounds how many model calls run at once). A free runner takes what is queued; with a queue delay it waits up to that long for
/// more, dispatching early once a preferred batch size (or the maximum) is reached. Each request
/// gets its own rows back, in order. Back-pressure: past <see cref="BatchingSettings.MaxQueuedItems"/>
/// queued items a request is refused at once (<see cref="LoadSheddingException"/>, 503).
/// </summary>
public sealed class DynamicBatcher : IAsyncDisposable
{
    private readonly BatchRunner _run;
    private readonly BatchingSettings _settings;
    private readonly TimeProvider _time;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    private readonly Lock _take = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task[] _runners;
    private int _queuedItems;

    /// <summary>Starts the runners.</summary>
    public DynamicBatcher(BatchRunner run, BatchingSettings settings, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.ConcurrentBatches, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(settings.StagedAhead);
        _run = run;
        _settings = settings;
        _time = time ?? TimeProvider.System;
        _runners = [.. Enumerable.Range(0, settings.ConcurrentBatches + settings.StagedAhead).Select(_ => Task.Run(RunAsync))];
    }

    /// <summary>Items waiting for a runner.</summary>
    public int QueuedItems => Volatile.Read(ref _queuedItems);

    /// <summary>Runs <paramref name="items"/> items as part of some batch; completes with this request's rows.</summary>
    public Task<BatchRun> SubmitAsync(ReadOnlyMemory<float> input, int items, bool squeeze)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(items, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(items, _settings.MaxBatchSize);
        if (Interlocked.Add(ref _queuedItems, items) > _settings.MaxQueuedItems)
        {
            Interlocked.Add(ref _queuedItems, -items);
            throw new LoadSheddingException($"the model's queue holds {_settings.MaxQueuedItems} items already; retry shortly");
        }

        var pending = new Pending(input, items, squeeze, new TaskCompletionSource<BatchRun>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Add(ref _queuedItems, -items);
            throw new ObjectDisposedException(nameof(DynamicBatcher));
        }

        return pending.Done.Task;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync();
        await Task.WhenAll(_runners).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        while (_queue.Reader.TryRead(out var left))
        {
            left.Done.TrySetException(new ObjectDisposedException(nameof(DynamicBatcher)));
        }

        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>();
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token))
            {
                var items = Take(batch);
                if (batch.Count == 0)
                {
                    continue;
                }

                if (_settings.MaxQueueDelay > TimeSpan.Zero && !IsPreferred(items) && items < _settings.MaxBatchSize)
                {
                    var deadline = _time.GetTimestamp() + (long)(_settings.MaxQueueDelay.TotalSeconds * _time.TimestampFrequency);
                    while (items < _settings.MaxBatchSize && !IsPreferred(items))
                    {
                        var left = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
                        if (left <= TimeSpan.Zero)
                        {
                            break;
                        }

                        using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                        wait.CancelAfter(left);
                        try
                        {
                            await reader.WaitToReadAsync(wait.Token);
                        }
                        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
                        {
                            break;
                        }

                        items += Take(batch, items);
                    }
                }

                Execute(batch);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            foreach (var pending in batch)
            {
                pending.Done.TrySetException(new ObjectDisposedException(nameof(DynamicBatcher)));
            }
        }
    }

    private bool IsPreferred(int items) => _settings.PreferredBatchSizes.Contains(items);

    /// <summary>Moves queued requests that still fit into <paramref name="batch"/>, oldest first; the items taken.</summary>
    private int Take(List<Pending> batch, int already = 0)
    {
        var taken = 0;
        lock (_take)
        {
            while (_queue.Reader.TryPeek(out var next) && already + taken + next.Items <= _settings.MaxBatchSize && _queue.Reader.TryRead(out next))
            {
                batch.Add(next);
                taken += next.Items;
            }
        }

        Interlocked.Add(ref _queuedItems, -taken);
        return taken;
    }

    private void Execute(List<Pending> batch)
    {
        // Squeezed and plain requests run as separate calls (a squeezed call carries the copies too).
        // The inputs go to the runner unjoined: it writes them once into what the model reads.
        foreach (var group in batch.GroupBy(p => p.Squeeze))
        {
            var members = group.ToList();
            try
            {
                var total = members.Sum(p => p.Items);
                var run = _run(new BatchInput([.. members.Select(p => p.Input)]), total, group.Key);
                if (members.Count == 1)
                {
                    members[0].Done.TrySetResult(run);
                    continue;
                }

                var first = 0;
                foreach (var member in members)
                {
                    member.Done.TrySetResult(Slice(run, first, member.Items, total));
                    first += member.Items;
                }
            }
            catch (Exception ex)
            {
                foreach (var member in members)
                {
                    member.Done.TrySetException(ex);
                }
            }
        }
    }

    /// <summary>Rows <paramref name="first"/> .. first + count of a run over <paramref name="total"/> items.</summary>
    private static BatchRun Slice(BatchRun run, int first, int count, int total)
    {
        static float[] Rows(float[] values, int first, int count, int total)
        {
            var row = values.Length / total;
            return values.AsSpan(first * row, count * row).ToArray();
        }

        return new BatchRun(
            [.. run.Outputs.Select(o => Rows(o, first, count, total))],
            run.Scores is null ? null : Rows(run.Scores, first, count, total),
            run.SqueezedScores is null ? null : Rows(run.SqueezedScores, first, count, total));
    }

    private sealed record Pending(ReadOnlyMemory<float> Input, int Items, bool Squeeze, TaskCompletionSource<BatchRun> Done);
}

/// <summary>A model's batching: Triton's <c>dynamic_batching</c> plus the server's queue bound and concurrency.</summary>
/// <param name="MaxBatchSize">Items per model call at most (the model's <c>max_batch_size</c>).</param>
/// <param name="MaxQueueDelay">How long a free runner waits for more requests (<c>max_queue_delay_microseconds</c>); zero: it takes what is queued.</param>
/// <param name="PreferredBatchSizes">Sizes at which a waiting runner dispatches at once (<c>preferred_batch_size</c>).</param>
/// <param name="MaxQueuedItems">Items that may wait; beyond, requests are shed (503).</param>
/// <param name="ConcurrentBatches">Batches in flight at once.</param>
/// <param name="StagedAhead">
/// Runners beyond <paramref name="ConcurrentBatches"/>: each takes the next batch and writes it into
/// the model's input while the others' model calls run, then waits for a free call (the runner
/// delegate holds the bound on calls). 0: a batch is taken and written only once a call is free.
/// </param>
public sealed record BatchingSettings(int MaxBatchSize, TimeSpan MaxQueueDelay, IReadOnlyList<int> PreferredBatchSizes, int MaxQueuedItems, int ConcurrentBatches, int StagedAhead = 0);
