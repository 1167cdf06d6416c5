namespace ShieldCluster.Inference.Batching;

/// <summary>
/// Dynamic batching for one model version, as Triton's <c>dynamic_batching</c>: requests from any
/// client queue here and are run together, up to <see cref="BatchingSettings.MaxBatchSize"/> rows
/// per model call (a squeezed item's copies counted), by <see cref="BatchingSettings.ConcurrentBatches"/> runners (several batches in
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
    // The queue, under _take. Each queued request adds one permit to _signal, which the runners
    // (threads of their own) wait on: a submission wakes a runner directly, with no thread-pool hop
    // between them (the pool may be backed up with request work).
    private readonly Queue<Pending> _queue = new();
    private readonly Lock _take = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Task[] _runners;
    // Set under _take, so no request is queued after it; read by the runners without the lock.
    private volatile bool _closed;
    private int _queuedItems;
    private long _calls;
    private long _callItems;

    /// <summary>Starts the runners.</summary>
    public DynamicBatcher(BatchRunner run, BatchingSettings settings, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.ConcurrentBatches, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(settings.StagedAhead);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.RowsPerSqueezedItem, 1);
        _run = run;
        _settings = settings;
        _time = time ?? TimeProvider.System;
        _runners = [.. Enumerable.Range(0, settings.ConcurrentBatches + settings.StagedAhead).Select(_ =>
            Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))];
    }

    /// <summary>The settings it runs with.</summary>
    public BatchingSettings Settings => _settings;

    /// <summary>Items waiting for a runner.</summary>
    public int QueuedItems => Volatile.Read(ref _queuedItems);

    /// <summary>Model calls made so far (one per batch, squeezed copies riding in it).</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Items in those calls (squeezed copies not counted): over <see cref="Calls"/>, how full the batches were.</summary>
    public long CallItems => Interlocked.Read(ref _callItems);

    /// <summary>Runs <paramref name="items"/> items as part of some batch; completes with this request's rows.</summary>
    public Task<BatchRun> SubmitAsync(ReadOnlyMemory<float> input, int items, bool squeeze, ReadOnlyMemory<Half> halves = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(items, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(items, _settings.MaxBatchSize);
        if (Interlocked.Add(ref _queuedItems, items) > _settings.MaxQueuedItems)
        {
            Interlocked.Add(ref _queuedItems, -items);
            throw new LoadSheddingException($"the model's queue holds {_settings.MaxQueuedItems} items already; retry shortly");
        }

        var pending = new Pending(input, halves, items, squeeze, new TaskCompletionSource<BatchRun>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_take)
        {
            if (_closed)
            {
                Interlocked.Add(ref _queuedItems, -items);
                throw new ObjectDisposedException(nameof(DynamicBatcher));
            }

            _queue.Enqueue(pending);
        }

        _signal.Release();
        return pending.Done.Task;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        lock (_take)
        {
            _closed = true;
        }

        _signal.Release(_runners.Length);
        await Task.WhenAll(_runners).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        lock (_take)
        {
            while (_queue.TryDequeue(out var left))
            {
                left.Done.TrySetException(new ObjectDisposedException(nameof(DynamicBatcher)));
            }
        }

        _signal.Dispose();
    }

    /// <summary>
    /// One runner, on a thread of its own: a model call blocks its thread for the whole call (ONNX
    /// Runtime's CUDA provider spins while it waits for the GPU), which must not take a thread-pool
    /// thread from request processing.
    /// </summary>
    private void Run()
    {
        var batch = new List<Pending>();
        try
        {
            // Stopping releases one permit per runner; a runner that spent one in its queue delay sees
            // the flag here instead, so none is left waiting.
            while (!_closed)
            {
                _signal.Wait();
                if (_closed)
                {
                    return;
                }

                // A permit whose request another runner took with its own finds nothing here.
                var rows = Take(batch);
                if (batch.Count == 0)
                {
                    continue;
                }

                if (_settings.MaxQueueDelay > TimeSpan.Zero && !IsPreferred(rows) && rows < _settings.MaxBatchSize)
                {
                    var deadline = _time.GetTimestamp() + (long)(_settings.MaxQueueDelay.TotalSeconds * _time.TimestampFrequency);
                    while (rows < _settings.MaxBatchSize && !IsPreferred(rows))
                    {
                        // SemaphoreSlim counts whole milliseconds and drops the rest: what is left is
                        // rounded up, or a delay of 1 ms (or less left of a longer one) would not
                        // wait at all. So a wait may overrun the delay by under a millisecond.
                        var left = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
                        if (left <= TimeSpan.Zero || !_signal.Wait((int)Math.Ceiling(left.TotalMilliseconds)))
                        {
                            break;
                        }

                        if (_closed)
                        {
                            return;
                        }

                        var taken = Take(batch, rows, out var headLeft);
                        rows += taken;
                        if (headLeft)
                        {
                            // The oldest queued request does not fit: the batch is as full as it gets in
                            // order. A permit spent without taking anything goes back for that request.
                            if (taken == 0)
                            {
                                _signal.Release();
                            }

                            break;
                        }
                    }
                }

                Execute(batch);
                batch.Clear();
            }
        }
        finally
        {
            foreach (var pending in batch)
            {
                pending.Done.TrySetException(new ObjectDisposedException(nameof(DynamicBatcher)));
            }
        }
    }

    private bool IsPreferred(int items) => _settings.PreferredBatchSizes.Contains(items);

    /// <summary>The model rows a request takes in a call: its items, and a squeezed request's copies of them.</summary>
    private int RowsOf(Pending pending) => pending.Squeeze ? pending.Items * _settings.RowsPerSqueezedItem : pending.Items;

    /// <summary>Moves queued requests that still fit into <paramref name="batch"/>, oldest first; the rows taken.</summary>
    private int Take(List<Pending> batch, int already = 0) => Take(batch, already, out _);

    /// <summary>
    /// As <see cref="Take(List{Pending}, int)"/>; <paramref name="headLeft"/>: a request that does not fit is left queued.
    /// A batch holds at most <see cref="BatchingSettings.MaxBatchSize"/> rows, squeezed copies counted,
    /// so a call stays within the sizes the model was warmed at (and its page-locked input blocks);
    /// only a request alone may exceed it (a squeezed request of many items).
    /// </summary>
    private int Take(List<Pending> batch, int already, out bool headLeft)
    {
        var rows = 0;
        var items = 0;
        lock (_take)
        {
            while (_queue.TryPeek(out var next) && (batch.Count == 0 || already + rows + RowsOf(next) <= _settings.MaxBatchSize))
            {
                _queue.Dequeue();
                batch.Add(next);
                rows += RowsOf(next);
                items += next.Items;
            }

            headLeft = _queue.Count > 0;
        }

        Interlocked.Add(ref _queuedItems, -items);
        return rows;
    }

    private void Execute(List<Pending> batch)
    {
        // One model call for the batch: the squeezed requests first (the runner writes each of their
        // items followed by its squeezed copies), then the plain ones. The inputs go to the runner
        // unjoined: it writes them once into what the model reads.
        var members = batch.TrueForAll(p => p.Squeeze) || !batch.Exists(p => p.Squeeze)
            ? batch
            : [.. batch.Where(p => p.Squeeze), .. batch.Where(p => !p.Squeeze)];
        var total = 0;
        var squeezed = 0;
        foreach (var member in members)
        {
            total += member.Items;
            squeezed += member.Squeeze ? member.Items : 0;
        }

        try
        {
            Interlocked.Increment(ref _calls);
            Interlocked.Add(ref _callItems, total);
            var run = _run(new BatchInput([.. members.Select(p => p.Input)], [.. members.Select(p => p.Halves)]), total, squeezed);
            if (members.Count == 1)
            {
                members[0].Done.TrySetResult(run);
                return;
            }

            var first = 0;
            foreach (var member in members)
            {
                member.Done.TrySetResult(Slice(run, first, member.Items, total, member.Squeeze ? squeezed : 0));
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

    /// <summary>
    /// Rows <paramref name="first"/> .. first + count of a run over <paramref name="total"/> items;
    /// with their scores when they are among the run's first <paramref name="squeezed"/> (squeezed) items.
    /// </summary>
    private static BatchRun Slice(BatchRun run, int first, int count, int total, int squeezed)
    {
        static float[] Rows(float[] values, int first, int count, int total)
        {
            var row = values.Length / total;
            return values.AsSpan(first * row, count * row).ToArray();
        }

        return new BatchRun(
            [.. run.Outputs.Select(o => Rows(o, first, count, total))],
            squeezed == 0 || run.Scores is null ? null : Rows(run.Scores, first, count, squeezed),
            squeezed == 0 || run.SqueezedScores is null ? null : Rows(run.SqueezedScores, first, count, squeezed));
    }

    private sealed record Pending(ReadOnlyMemory<float> Input, ReadOnlyMemory<Half> Halves, int Items, bool Squeeze, TaskCompletionSource<BatchRun> Done);
}

/// <summary>A model's batching: Triton's <c>dynamic_batching</c> plus the server's queue bound and concurrency.</summary>
/// <param name="MaxBatchSize">Items per model call at most (the model's <c>max_batch_size</c>).</param>
/// <param name="MaxQueueDelay">
/// How long a free runner waits for more requests (<c>max_queue_delay_microseconds</c>, which the
/// model repository rounds down to whole milliseconds: the runners' waits count milliseconds); zero:
/// it takes what is queued.
/// </param>
/// <param name="PreferredBatchSizes">Sizes at which a waiting runner dispatches at once (<c>preferred_batch_size</c>).</param>
/// <param name="MaxQueuedItems">Items that may wait; beyond, requests are shed (503).</param>
/// <param name="ConcurrentBatches">Batches in flight at once.</param>
/// <param name="StagedAhead">
/// Runners beyond <paramref name="ConcurrentBatches"/>: each takes the next batch and writes it into
/// the model's input while the others' model calls run, then waits for a free call (the runner
/// delegate holds the bound on calls). 0: a batch is taken and written only once a call is free.
/// </param>
/// <param name="RowsPerSqueezedItem">
/// Model rows a squeezed item takes in a call: itself and its squeezed copies (1 + the squeezers). A
/// batch's rows, copies counted, stay within <paramref name="MaxBatchSize"/>.
/// </param>
public sealed record BatchingSettings(int MaxBatchSize, TimeSpan MaxQueueDelay, IReadOnlyList<int> PreferredBatchSizes, int MaxQueuedItems, int ConcurrentBatches, int StagedAhead = 0,
    int RowsPerSqueezedItem = 1);
