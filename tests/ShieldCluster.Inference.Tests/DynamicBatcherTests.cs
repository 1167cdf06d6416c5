using System.Collections.Concurrent;
using ShieldCluster.Inference.Batching;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Inference.Runtime;
using ShieldCluster.Testing;

namespace ShieldCluster.Inference.Tests;

/// <summary>
/// The batcher's logic with a runner that echoes each row's input (so every answer shows whose
/// rows it got), under concurrency, at every batch boundary, and under back-pressure.
/// </summary>
public class DynamicBatcherTests
{
    private const int Row = 3;

    /// <summary>
    /// Output row i = input row i * 10; for the first <paramref name="squeezed"/> rows, the squeezing
    /// score of row i = its first value, and its two squeezed copies' scores 1000 * i and 1000 * i + 1.
    /// </summary>
    private static BatchRun Echo(BatchInput input, int items, int squeezed, ConcurrentBag<int>? sizes = null)
    {
        sizes?.Add(items);
        Assert.Equal(items * Row, input.Length);
        Assert.InRange(squeezed, 0, items);
        var values = input.ToArray();
        var output = values.Select(v => v * 10).ToArray();
        return squeezed > 0
            ? new BatchRun([output], [.. Enumerable.Range(0, squeezed).Select(i => values[i * Row])], [.. Enumerable.Range(0, squeezed * 2).Select(i => (1000f * (i / 2)) + (i % 2))])
            : new BatchRun([output]);
    }

    private static float[] Rows(int request, int items) =>
        [.. Enumerable.Range(0, items * Row).Select(i => (request * 1000f) + i)];

    /// <summary>
    /// A batcher with one runner whose calls wait for <c>Release</c> and are recorded (items,
    /// squeezed), already busy with a first request of one plain item, so what is submitted next queues.
    /// </summary>
    private static async Task<(DynamicBatcher Batcher, TaskCompletionSource Release, ConcurrentBag<(int Items, int Squeezed)> Calls, Task<BatchRun> First)> BusyBatcherAsync(
        int maxBatchSize, int rowsPerSqueezedItem = 1)
    {
        var release = new TaskCompletionSource();
        var calls = new ConcurrentBag<(int Items, int Squeezed)>();
        var batcher = new DynamicBatcher((input, items, squeezed) =>
        {
            release.Task.Wait();
            calls.Add((items, squeezed));
            return Echo(input, items, squeezed);
        }, new BatchingSettings(maxBatchSize, TimeSpan.Zero, [], MaxQueuedItems: 100, ConcurrentBatches: 1, RowsPerSqueezedItem: rowsPerSqueezedItem));
        var first = batcher.SubmitAsync(Rows(0, 1), 1, false);
        await WaitUntilAsync(() => batcher.QueuedItems == 0);
        return (batcher, release, calls, first);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2_000)]
    public async Task ConcurrentRequests_EachGetsItsOwnRowsInOrder_AndNoBatchExceedsTheMaximum(int delayMicroseconds)
    {
        var sizes = new ConcurrentBag<int>();
        await using var batcher = new DynamicBatcher((input, items, squeeze) => Echo(input, items, squeeze, sizes),
            new BatchingSettings(MaxBatchSize: 8, TimeSpan.FromMicroseconds(delayMicroseconds), [4], MaxQueuedItems: 10_000, ConcurrentBatches: 2));
        var random = new Random(3);
        var requests = Enumerable.Range(0, 400).Select(r => (Id: r, Items: 1 + random.Next(8), Squeeze: random.Next(2) == 0)).ToList();

        var answers = await Task.WhenAll(requests.Select(r => Task.Run(() => batcher.SubmitAsync(Rows(r.Id, r.Items), r.Items, r.Squeeze))));

        for (var i = 0; i < requests.Count; i++)
        {
            var (id, items, squeeze) = requests[i];
            Assert.Equal(Rows(id, items).Select(v => v * 10), answers[i].Outputs[0]);
            if (squeeze)
            {
                Assert.Equal(Enumerable.Range(0, items).Select(k => (id * 1000f) + (k * Row)), answers[i].Scores!);
                Assert.Equal(items * 2, answers[i].SqueezedScores!.Length);
            }
            else
            {
                Assert.Null(answers[i].Scores);
            }
        }

        Assert.All(sizes, s => Assert.InRange(s, 1, 8));
        Assert.True(sizes.Count < requests.Count, $"{sizes.Count} model calls for {requests.Count} requests: nothing was batched");
        Assert.Equal(requests.Sum(r => r.Items), sizes.Sum());
        Assert.Equal(0, batcher.QueuedItems);
        Assert.Equal(sizes.Count, batcher.Calls);
        Assert.Equal(sizes.Sum(), batcher.CallItems);
    }

    [Fact]
    public async Task BatchBoundary_RequestsThatFillTheMaximumExactly_AreSplitCorrectly()
    {
        var release = new TaskCompletionSource();
        var sizes = new ConcurrentBag<int>();
        await using var batcher = new DynamicBatcher((input, items, squeeze) =>
        {
            release.Task.Wait();
            return Echo(input, items, squeeze, sizes);
        }, new BatchingSettings(MaxBatchSize: 6, TimeSpan.Zero, [], MaxQueuedItems: 100, ConcurrentBatches: 1));

        // The first request occupies the only runner; the next ones queue: 2 + 4 fill one batch exactly, 3 + 3 the next.
        var first = batcher.SubmitAsync(Rows(0, 1), 1, false);
        await WaitUntilAsync(() => batcher.QueuedItems == 0);
        var queued = new[] { (1, 2), (2, 4), (3, 3), (4, 3) }.Select(r => (r.Item1, r.Item2, Task: batcher.SubmitAsync(Rows(r.Item1, r.Item2), r.Item2, false))).ToList();
        Assert.Equal(12, batcher.QueuedItems);
        release.SetResult();

        await first;
        foreach (var (id, items, task) in queued)
        {
            Assert.Equal(Rows(id, items).Select(v => v * 10), (await task).Outputs[0]);
        }

        Assert.Equal([1, 6, 6], sizes.Order());
    }

    [Fact]
    public async Task MixedBatch_SqueezedAndPlainRequests_RunAsOneCall_EachWithItsOwnRowsAndScores()
    {
        // The first request occupies the only runner; the next four queue and are taken together.
        var (batcher, release, calls, first) = await BusyBatcherAsync(maxBatchSize: 8);
        await using var _ = batcher;
        (int Id, int Items, bool Squeeze)[] requests = [(1, 2, false), (2, 1, true), (3, 1, false), (4, 3, true)];
        var queued = requests.Select(r => (r.Id, r.Items, r.Squeeze, Task: batcher.SubmitAsync(Rows(r.Id, r.Items), r.Items, r.Squeeze))).ToList();
        release.SetResult();
        await first;

        foreach (var (id, items, squeeze, task) in queued)
        {
            var answer = await task;
            Assert.Equal(Rows(id, items).Select(v => v * 10), answer.Outputs[0]);
            if (squeeze)
            {
                Assert.Equal(Enumerable.Range(0, items).Select(k => (id * 1000f) + (k * Row)), answer.Scores!);
            }
            else
            {
                Assert.Null(answer.Scores);
                Assert.Null(answer.SqueezedScores);
            }
        }

        // One call of 7 items, the 4 squeezed first: request 2's item, then request 4's three.
        Assert.Equal([(1, 0), (7, 4)], calls.OrderBy(c => c.Items));
        var two = await queued[1].Task;
        var four = await queued[3].Task;
        Assert.Equal(new[] { 0f, 1f }, two.SqueezedScores!);
        Assert.Equal(new[] { 1000f, 1001f, 2000f, 2001f, 3000f, 3001f }, four.SqueezedScores!);
        Assert.Equal(2, batcher.Calls);
    }

    [Fact]
    public async Task SqueezedCopies_CountAsRows_SoNoCallExceedsTheMaximum()
    {
        // The first request occupies the only runner. Queued: 2 squeezed items (6 rows) and 1 plain
        // fill 7 of 8 rows; 1 squeezed item (3 rows) would make 10, so it starts the next call, with the
        // 2 plain items behind it (5 rows). Counted as items, all 6 would have gone in one call of 12 rows.
        var (batcher, release, calls, first) = await BusyBatcherAsync(maxBatchSize: 8, rowsPerSqueezedItem: 3);
        await using var _ = batcher;
        (int Id, int Items, bool Squeeze)[] requests = [(1, 2, true), (2, 1, false), (3, 1, true), (4, 2, false)];
        var queued = requests.Select(r => (r.Id, r.Items, r.Squeeze, Task: batcher.SubmitAsync(Rows(r.Id, r.Items), r.Items, r.Squeeze))).ToList();
        Assert.Equal(6, batcher.QueuedItems);
        release.SetResult();
        await first;

        foreach (var (id, items, squeeze, task) in queued)
        {
            var answer = await task;
            Assert.Equal(Rows(id, items).Select(v => v * 10), answer.Outputs[0]);
            Assert.Equal(squeeze, answer.Scores is not null);
        }

        Assert.Equal([(1, 0), (3, 1), (3, 2)], calls.OrderBy(c => c.Items).ThenBy(c => c.Squeezed));
        Assert.All(calls, c => Assert.InRange(c.Items + (2 * c.Squeezed), 1, 8));
        Assert.Equal(0, batcher.QueuedItems);
    }

    [Fact]
    public async Task SqueezedRequest_OverTheMaximumInRows_StillRuns_Alone()
    {
        // 4 squeezed items are 12 rows: a call of their own (never left queued), the plain item after it in the next.
        var (batcher, release, calls, first) = await BusyBatcherAsync(maxBatchSize: 4, rowsPerSqueezedItem: 3);
        await using var _ = batcher;
        var big = batcher.SubmitAsync(Rows(1, 4), 4, true);
        var after = batcher.SubmitAsync(Rows(2, 1), 1, false);
        release.SetResult();

        await first;
        Assert.Equal(Rows(1, 4).Select(v => v * 10), (await big).Outputs[0]);
        Assert.Equal(4, (await big).Scores!.Length);
        Assert.Equal(Rows(2, 1).Select(v => v * 10), (await after).Outputs[0]);
        Assert.Equal([(1, 0), (1, 0), (4, 4)], calls.OrderBy(c => c.Items));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DynamicBatcher((_, _, _) => throw new InvalidOperationException(),
            new BatchingSettings(MaxBatchSize: 4, TimeSpan.Zero, [], MaxQueuedItems: 100, ConcurrentBatches: 1, RowsPerSqueezedItem: 0)));
    }

    [Fact]
    public async Task FullQueue_RefusesAtOnce_WithoutHoldingTheRequest_AndRecovers()
    {
        var release = new TaskCompletionSource();
        await using var batcher = new DynamicBatcher((input, items, squeeze) =>
        {
            release.Task.Wait();
            return Echo(input, items, squeeze);
        }, new BatchingSettings(MaxBatchSize: 4, TimeSpan.Zero, [], MaxQueuedItems: 8, ConcurrentBatches: 1));

        var running = batcher.SubmitAsync(Rows(0, 4), 4, false);
        await WaitUntilAsync(() => batcher.QueuedItems == 0);
        var waiting = new[] { batcher.SubmitAsync(Rows(1, 4), 4, false), batcher.SubmitAsync(Rows(2, 4), 4, false) };

        var refused = Assert.Throws<LoadSheddingException>(() => { _ = batcher.SubmitAsync(Rows(3, 1), 1, false); });
        Assert.Contains("8 items", refused.Message, StringComparison.Ordinal);
        Assert.Equal(8, batcher.QueuedItems);

        release.SetResult();
        await Task.WhenAll([running, .. waiting]);
        Assert.Equal(Rows(5, 2).Select(v => v * 10), (await batcher.SubmitAsync(Rows(5, 2), 2, false)).Outputs[0]);
    }

    [Fact]
    public async Task RunnerFailure_FailsOnlyThatBatchsRequests()
    {
        var calls = 0;
        await using var batcher = new DynamicBatcher((input, items, squeeze) =>
            Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("model failed") : Echo(input, items, squeeze),
            new BatchingSettings(MaxBatchSize: 4, TimeSpan.Zero, [], MaxQueuedItems: 100, ConcurrentBatches: 1));

        await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.SubmitAsync(Rows(0, 1), 1, false));
        Assert.Equal(Rows(1, 1).Select(v => v * 10), (await batcher.SubmitAsync(Rows(1, 1), 1, false)).Outputs[0]);
    }

    [Fact]
    public async Task OneMillisecondQueueDelay_ARequestSubmittedWhileTheRunnerWaits_JoinsTheBatch()
    {
        // The runner's wait counts whole milliseconds: with the time left rounded down, a 1 ms delay
        // never waited, and every second request below ran in a call of its own.
        var sizes = new ConcurrentBag<int>();
        await using var batcher = new DynamicBatcher((input, items, squeeze) => Echo(input, items, squeeze, sizes),
            new BatchingSettings(MaxBatchSize: 16, TimeSpan.FromMilliseconds(1), [], MaxQueuedItems: 100, ConcurrentBatches: 1));
        var joined = 0;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            sizes.Clear();
            var first = batcher.SubmitAsync(Rows(attempt, 1), 1, false);

            // The runner has taken the first and waits for more (unless this thread stalled past the delay).
            SpinWait.SpinUntil(() => batcher.QueuedItems == 0);
            var second = batcher.SubmitAsync(Rows(attempt + 100, 1), 1, false);

            var answers = await Task.WhenAll(first, second);
            Assert.Equal(Rows(attempt, 1).Select(v => v * 10), answers[0].Outputs[0]);
            Assert.Equal(Rows(attempt + 100, 1).Select(v => v * 10), answers[1].Outputs[0]);
            joined += sizes.Count == 1 ? 1 : 0;
        }

        Assert.True(joined >= 5, $"only {joined} of 10 second requests joined the first one's batch within the 1 ms delay");
    }

    [Fact]
    public async Task MaxQueueDelay_HoldsAFreeRunnerForMoreRequests_UntilAPreferredSize()
    {
        var sizes = new ConcurrentBag<int>();
        await using var batcher = new DynamicBatcher((input, items, squeeze) => Echo(input, items, squeeze, sizes),
            new BatchingSettings(MaxBatchSize: 16, TimeSpan.FromSeconds(5), [4], MaxQueuedItems: 100, ConcurrentBatches: 1));

        // Four single requests within the 5-second delay make one batch of the preferred size, dispatched at once.
        var started = DateTime.UtcNow;
        var tasks = Enumerable.Range(0, 4).Select(i => batcher.SubmitAsync(Rows(i, 1), 1, false)).ToList();
        await Task.WhenAll(tasks);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(4), "the preferred size did not dispatch before the delay ran out");
        Assert.Equal([4], sizes);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 3)]
    public async Task StagedAhead_TakesThatManyMoreBatchesWhileTheOthersRun(int stagedAhead, int expectedInRunner)
    {
        var release = new TaskCompletionSource();
        var inRunner = 0;
        await using var batcher = new DynamicBatcher((input, items, squeeze) =>
        {
            Interlocked.Increment(ref inRunner);
            release.Task.Wait();
            return Echo(input, items, squeeze);
        }, new BatchingSettings(MaxBatchSize: 2, TimeSpan.Zero, [], MaxQueuedItems: 100, ConcurrentBatches: 1, StagedAhead: stagedAhead));

        var requests = Enumerable.Range(0, 5).Select(r => batcher.SubmitAsync(Rows(r, 2), 2, false)).ToList();
        await WaitUntilAsync(() => Volatile.Read(ref inRunner) == expectedInRunner && batcher.QueuedItems == (5 - expectedInRunner) * 2);
        await Task.Delay(50);
        Assert.Equal(expectedInRunner, Volatile.Read(ref inRunner));
        Assert.Equal((5 - expectedInRunner) * 2, batcher.QueuedItems);

        release.SetResult();
        for (var r = 0; r < requests.Count; r++)
        {
            Assert.Equal(Rows(r, 2).Select(v => v * 10), (await requests[r]).Outputs[0]);
        }
    }

    [Fact]
    public async Task ModelCalls_RunOnTheRunnersOwnThreads_NotOnTheThreadPool()
    {
        var onPool = new ConcurrentBag<bool>();
        await using var batcher = new DynamicBatcher((input, items, squeeze) =>
        {
            onPool.Add(Thread.CurrentThread.IsThreadPoolThread);
            return Echo(input, items, squeeze);
        }, new BatchingSettings(MaxBatchSize: 4, TimeSpan.FromMicroseconds(200), [], MaxQueuedItems: 100, ConcurrentBatches: 2, StagedAhead: 1));

        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(r => Task.Run(() => batcher.SubmitAsync(Rows(r, 1), 1, false))));

        Assert.Equal(Enumerable.Range(0, 40).Select(r => Rows(r, 1).Select(v => v * 10)), answers.Select(a => a.Outputs[0]));
        Assert.NotEmpty(onPool);
        Assert.DoesNotContain(true, onPool);
    }

    [Fact]
    public async Task AWaitingBatch_DispatchesOnceTheNextRequestDoesNotFit_AndTheNextBatchFillsUp()
    {
        var sizes = new ConcurrentBag<int>();
        await using var batcher = new DynamicBatcher((input, items, squeeze) => Echo(input, items, squeeze, sizes),
            new BatchingSettings(MaxBatchSize: 4, TimeSpan.FromSeconds(20), [], MaxQueuedItems: 100, ConcurrentBatches: 1));

        var first = batcher.SubmitAsync(Rows(1, 3), 3, false);
        await WaitUntilAsync(() => batcher.QueuedItems == 0);
        var second = batcher.SubmitAsync(Rows(2, 2), 2, false);

        // The first does not wait out the 20 s queue delay: 3 + 2 items cannot share a batch of 4.
        Assert.Same(first, await Task.WhenAny(first, Task.Delay(TimeSpan.FromSeconds(10))));
        Assert.False(second.IsCompleted);

        // The second waits for more until its batch is full.
        var third = batcher.SubmitAsync(Rows(3, 2), 2, false);
        var rest = Task.WhenAll(second, third);
        Assert.Same(rest, await Task.WhenAny(rest, Task.Delay(TimeSpan.FromSeconds(10))));
        Assert.Equal(Rows(1, 3).Select(v => v * 10), (await first).Outputs[0]);
        Assert.Equal(Rows(2, 2).Select(v => v * 10), (await second).Outputs[0]);
        Assert.Equal(Rows(3, 2).Select(v => v * 10), (await third).Outputs[0]);
        Assert.Equal([3, 4], sizes.Order());
    }

    [Fact]
    public async Task Disposing_WhileARunnerWaitsOutItsQueueDelay_EndsEveryRunner_AndFailsTheWaitingRequest()
    {
        var batcher = new DynamicBatcher((input, items, squeeze) => Echo(input, items, squeeze),
            new BatchingSettings(MaxBatchSize: 4, TimeSpan.FromSeconds(30), [], MaxQueuedItems: 100, ConcurrentBatches: 2, StagedAhead: 1));
        var waiting = batcher.SubmitAsync(Rows(1, 1), 1, false);
        await WaitUntilAsync(() => batcher.QueuedItems == 0);

        var disposed = batcher.DisposeAsync().AsTask();
        Assert.Same(disposed, await Task.WhenAny(disposed, Task.Delay(TimeSpan.FromSeconds(10))));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting);
        Assert.Throws<ObjectDisposedException>(() => { _ = batcher.SubmitAsync(Rows(2, 1), 1, false); });
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(5);
        }
    }
}

/// <summary>The demo model batched (its config asks for dynamic batching): the same answers as one image per call.</summary>
public class BatchedModelTests(ModelRepositoryFixture fixture) : IClassFixture<ModelRepositoryFixture>
{
    [Fact]
    public async Task BatchesStagedAhead_OneCallInFlight_AnswerEveryImageAsAlone()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new InferenceOptions
        {
            ModelRepository = RepositoryPaths.Models, ConcurrentBatches = 1, StagedBatches = 2, PadBatches = BatchPadding.Always,
        });
        using var repository = new ModelRepository(options, new ExecutionProviderSelector(options, Microsoft.Extensions.Logging.Abstractions.NullLogger<ExecutionProviderSelector>.Instance),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ModelRepository>.Instance);
        var model = repository.Find("fashion-mnist", null)!;
        var images = Enumerable.Range(0, 64).Select(ShieldCluster.Testing.FashionMnist.TestImage).ToList();

        var batched = await Task.WhenAll(images.Select(image => Task.Run(() => model.InferAsync(image, 1, squeeze: false))));

        for (var i = 0; i < images.Count; i++)
        {
            Assert.Equal(fixture.Repository.Find("fashion-mnist", null)!.Run(images[i], 1)[0], batched[i].Outputs[0], (a, b) => MathF.Abs(a - b) < 1e-5f);
        }
    }

    [Fact]
    public async Task ConcurrentSingleImages_SqueezedAndPlainInTheSameBatches_EqualEachImageRunAlone()
    {
        var model = fixture.Repository.Find("fashion-mnist", null)!;
        var images = Enumerable.Range(0, 96).Select(ShieldCluster.Testing.FashionMnist.TestImage).ToList();

        var batched = await Task.WhenAll(images.Select((image, i) => Task.Run(() => model.InferAsync(image, 1, squeeze: i % 3 == 0))));

        for (var i = 0; i < images.Count; i++)
        {
            if (i % 3 == 0)
            {
                var alone = model.RunWithSqueezing(images[i], 1);
                Assert.Equal(alone.Outputs[0], batched[i].Outputs[0], (a, b) => MathF.Abs(a - b) < 1e-5f);
                Assert.Equal(alone.Scores[0], batched[i].Scores![0], 1e-5f);
                Assert.Equal(alone.SqueezedScores, batched[i].SqueezedScores!, (a, b) => MathF.Abs(a - b) < 1e-5f);
            }
            else
            {
                Assert.Equal(model.Run(images[i], 1)[0], batched[i].Outputs[0], (a, b) => MathF.Abs(a - b) < 1e-5f);
                Assert.Null(batched[i].Scores);
            }
        }
    }

    [Fact]
    public async Task ConcurrentSingleImages_Batched_EqualEachImageRunAlone_WithSqueezeScores()
    {
        var model = fixture.Repository.Find("fashion-mnist", null)!;
        Assert.NotNull(model.Batcher);
        // Each squeezed item takes its own row and one per squeezer in a call: counted against max_batch_size.
        Assert.Equal(1 + model.Squeezers.Count, model.Batcher.Settings.RowsPerSqueezedItem);
        Assert.True(model.Squeezers.Count > 0);
        var callsBefore = model.Batcher.Calls;
        var images = Enumerable.Range(0, 96).Select(ShieldCluster.Testing.FashionMnist.TestImage).ToList();

        var batched = await Task.WhenAll(images.Select(image => Task.Run(() => model.InferAsync(image, 1, squeeze: true))));

        // 96 squeezed items of 1 + squeezers rows each, at most max_batch_size rows per call.
        Assert.True(model.Batcher.Calls - callsBefore >= (int)Math.Ceiling(96.0 * (1 + model.Squeezers.Count) / model.MaxBatchSize));

        for (var i = 0; i < images.Count; i++)
        {
            var alone = model.RunWithSqueezing(images[i], 1);
            Assert.Equal(alone.Outputs[0], batched[i].Outputs[0], (a, b) => MathF.Abs(a - b) < 1e-5f);
            Assert.Equal(alone.Scores[0], batched[i].Scores![0], 1e-5f);
        }
    }
}
