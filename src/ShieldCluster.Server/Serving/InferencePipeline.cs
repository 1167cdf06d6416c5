using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using ShieldCluster.Contracts;
using ShieldCluster.Grains;
using ShieldCluster.Grains.Clients;
using ShieldCluster.Grains.Options;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Inference.Runtime;
using ShieldCluster.Protection.OutputHardening;
using ShieldCluster.Protection.Validation;
using ShieldCluster.Server.Http;
using ShieldCluster.Server.Identity;
using ShieldCluster.Server.Telemetry;

namespace ShieldCluster.Server.Serving;

/// <summary>
/// The protected inference path for one request: find the model the client may use, validate the
/// tensor, admit it through the client's grain, run it on a local inference grain, record the
/// compact features in the client's history, answer.
/// </summary>
public sealed partial class InferencePipeline(
    ModelRepository models,
    IGrainFactory grains,
    IOptions<ProtectionOptions> protection,
    QueryFeatures features,
    CrossClientIndex crossClient,
    AdmissionLeases leases,
    [FromKeyedServices(ShieldTime.Key)] TimeProvider time,
    ShieldMetrics metrics,
    ILogger<InferencePipeline> logger)
{
    private readonly Prometheus.Counter.Child _leasedAdmissions = metrics.Admissions.WithLabels("lease");
    private readonly Prometheus.Counter.Child _grainAdmissions = metrics.Admissions.WithLabels("grain");
    // Grain references are immutable and thread-safe; resolving one from its key costs a type lookup
    // and allocations on every call, so the few inference grains (one per model) are resolved once.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IInferenceGrain> _inferenceGrains = new();
    private readonly HardeningPolicy _degraded = new(
        protection.Value.DegradedOutputs, protection.Value.DegradedDecimals, protection.Value.DegradedTopK);

    /// <summary>The model version a client asks for; 404 when absent or not allowed for this client.</summary>
    public ModelVersion FindModel(ClientIdentity client, string model, string? version)
    {
        var served = client.Allows(model) ? models.Find(model) : null;
        if (served is null)
        {
            throw ApiException.NotFound($"model '{model}' not found");
        }

        return served.Get(version) ?? throw ApiException.NotFound($"version '{version}' of model '{model}' not found");
    }

    /// <summary>
    /// Runs a parsed request, whichever transport carried it; throws <see cref="ApiException"/> for
    /// every refusal (the transport maps its status: HTTP as is, gRPC to a status code).
    /// </summary>
    /// <param name="client">The authenticated client.</param>
    /// <param name="model">The model version from <see cref="FindModel"/>.</param>
    /// <param name="request">The parsed request.</param>
    /// <param name="admitted">
    /// Called with the client grain's admission (and <paramref name="state"/>) before a refusal is
    /// thrown, so the transport can send the rate-limit state with the answer or the refusal; not
    /// called when protection is off. A static lambda and the state it needs, so that no closure is
    /// allocated per request.
    /// </param>
    /// <param name="state">What <paramref name="admitted"/> writes to (the HTTP response, the gRPC call).</param>
    /// <typeparam name="TState">The type of <paramref name="state"/>.</typeparam>
    public async Task<InferResult> InferAsync<TState>(ClientIdentity client, ModelVersion model, InferRequest request, Action<Admission, TState>? admitted, TState state)
    {
        var t0 = Stopwatch.GetTimestamp();
        var input = SelectInput(model, request);
        var error = input.Halves is { } halves
            ? TensorValidator.Validate(model.Input, model.MaxBatchSize, input.Datatype!, input.Shape, halves, out var batchSize)
            : TensorValidator.Validate(model.Input, model.MaxBatchSize, input.Datatype!, input.Shape, input.Data, out batchSize);
        if (error is not null)
        {
            throw ApiException.BadRequest(error);
        }

        var t1 = Stopwatch.GetTimestamp();
        var outputIndexes = SelectOutputs(model, request.Outputs);
        // Resolved only when this request calls its client's grain (not when a lease admits it and
        // its record is buffered for the lease's next flush).
        IClientGrain ClientGrain() => grains.GetGrain<IClientGrain>(client.ClientId);
        var degrade = false;
        var misinform = false;
        var adaptiveSqueeze = false;
        var protect = protection.Value.Enabled;
        if (protect)
        {
            // Under a live lease this front end admits the request itself (no grain call); the lease
            // was granted in good standing, so the adaptive squeeze is this front end's sample.
            var leased = leases.TryAdmit(client.ClientId, client.KeyHash, batchSize, out var admission);
            var decided = leased ? admission : await AdmitAsync(ClientGrain(), client, batchSize);
            (leased ? _leasedAdmissions : _grainAdmissions).Inc();
            if (decided is null)
            {
                protect = false;
            }
            else
            {
                admitted?.Invoke(decided, state);
                ThrowIfRefused(decided);
                degrade = decided.DegradeOutputs;
                misinform = decided.Misinform;
                adaptiveSqueeze = leased ? Random.Shared.NextDouble() < protection.Value.SqueezingSampleRate : decided.Squeeze;
            }
        }

        var t2 = Stopwatch.GetTimestamp();
        var squeeze = protect && model.SqueezeThreshold is not null && ShouldSqueeze(adaptiveSqueeze);
        metrics.BatchSize.WithLabels(model.Model).Observe(batchSize);
        var inference = _inferenceGrains.GetOrAdd(model.Model, static (name, factory) => factory.GetGrain<IInferenceGrain>(name), grains)
            .InferAsync(new InferenceRequest(model.Model, model.Version, input.Data ?? [], batchSize, squeeze, input.Halves));

        // The input's features (digest, thumbnail, fingerprint) do not depend on the answer: they are
        // computed while the model runs (both only read the input), so they add no latency where the
        // model takes longer than they do (a GPU behind its batching queue).
        var extracted = protect ? ExtractWhileRunning(model, input, batchSize, inference) : null;
        var result = await inference;

        var t3 = Stopwatch.GetTimestamp();
        var t4 = t3;
        if (protect)
        {
            var flagged = squeeze && result.SqueezeScores is not null
                ? Filter(model, ref result, batchSize, protection.Value.FlaggedInputs == FlaggedInputAction.Substitute)
                : null;

            // The record goes to the client's grain (one-way) before the answer, so the client's next
            // request is admitted after its detectors saw this one; the cluster-wide lookup follows
            // off the response path.
            var record = features.Build(model, extracted!, result.Outputs[0], flagged, time.GetUtcNow());
            if (!leases.TryBuffer(client.ClientId, record))
            {
                _ = ClientGrain().RecordAsync(record);
            }

            crossClient.Enqueue(client.ClientId, record);
            t4 = Stopwatch.GetTimestamp();
            if (misinform)
            {
                result = Misinform(result, batchSize);
            }
            else if (degrade)
            {
                result = Harden(result, batchSize);
            }
        }

        var outputs = new InferOutput[outputIndexes.Length];
        for (var i = 0; i < outputIndexes.Length; i++)
        {
            var spec = model.Outputs[outputIndexes[i]];
            long[] shape = model.MaxBatchSize > 0 ? [batchSize, .. spec.ItemDims] : [.. spec.ItemDims];
            var binary = request.Outputs is { Count: > 0 } requested ? requested[i].BinaryData ?? request.BinaryDataOutput : request.BinaryDataOutput;
            outputs[i] = new InferOutput(spec, shape, result.Outputs[outputIndexes[i]], binary);
        }

        var t5 = Stopwatch.GetTimestamp();
        if (StageTimings.Enabled)
        {
            StageTimings.Add(StageTimings.Stage.Validate, t1 - t0);
            StageTimings.Add(StageTimings.Stage.Admit, t2 - t1);
            StageTimings.Add(StageTimings.Stage.Infer, t3 - t2);
            StageTimings.Add(StageTimings.Stage.Record, t4 - t3);
            StageTimings.Add(StageTimings.Stage.Answer, t5 - t4);
            StageTimings.Add(StageTimings.Stage.Total, t5 - t0);
        }

        return new InferResult(model.Model, result.Version, request.Id, outputs);
    }

    private ExtractedItem[] ExtractWhileRunning(ModelVersion model, InferInput input, int batchSize, Task<InferenceResult> inference)
    {
        try
        {
            return input.Halves is { } halves ? features.Extract(model, halves, batchSize) : features.Extract(model, input.Data!, batchSize);
        }
        catch
        {
            // The request fails with this exception; the model's answer, whatever it is, is not awaited.
            inference.Ignore();
            throw;
        }
    }

    /// <summary>
    /// Counts a finished inference request by model and status (HTTP's status codes, whatever the
    /// transport) and, when it succeeded, observes its latency. Only models that exist name a
    /// series: arbitrary names in requests never grow the label set.
    /// </summary>
    public void Measure(ModelVersion? model, int status, long startedTimestamp)
    {
        var name = model?.Model ?? "unknown";
        metrics.Requests.WithLabels(name, status.ToString(CultureInfo.InvariantCulture)).Inc();
        if (status == StatusCodes.Status200OK)
        {
            metrics.Latency.WithLabels(name).Observe(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds);
        }
    }

    /// <summary>
    /// The client grain's admission; null when its state cannot be loaded and the server fails open
    /// (<see cref="StateUnavailableAction.Serve"/>). Failing closed, the unavailability propagates (503).
    /// </summary>
    private async Task<Admission?> AdmitAsync(IClientGrain clientGrain, ClientIdentity client, int items)
    {
        try
        {
            if (!leases.Enabled)
            {
                return client.KeyHash is { } keyHash ? await clientGrain.AdmitAsync(items, keyHash) : await clientGrain.AdmitAsync(items);
            }

            // The renewal carries the records and leftovers of this front end's last lease for the client, if any.
            var renewal = leases.Renewal(client.ClientId, client.KeyHash, items);
            Admission admission;
            try
            {
                admission = await clientGrain.RenewAsync(renewal);
            }
            catch
            {
                // What the renewal carried is not lost with it: the next flush delivers it.
                leases.Requeue(client.ClientId, renewal.Records, renewal.UnusedRequests, renewal.UnusedItems);
                throw;
            }

            leases.Grant(client.ClientId, client.KeyHash, admission);
            return admission;
        }
        catch (Exception ex) when (protection.Value.StateUnavailable == StateUnavailableAction.Serve && ErrorHandlingMiddleware.IsUnavailable(ex))
        {
            Log.FailedOpen(logger, ex, client.ClientId);
            return null;
        }
    }

    private static InferInput SelectInput(ModelVersion model, InferRequest request)
    {
        InferInput? match = null;
        foreach (var input in request.Inputs)
        {
            if (input.Name != model.Input.Name)
            {
                throw ApiException.BadRequest($"unknown input '{input.Name}'; model '{model.Model}' has input '{model.Input.Name}'");
            }

            if (match is not null)
            {
                throw ApiException.BadRequest($"input '{input.Name}' appears more than once");
            }

            match = input;
        }

        if (match is null)
        {
            throw ApiException.BadRequest("the request has no 'inputs'");
        }

        if (match.DataProblem is { } problem)
        {
            throw ApiException.BadRequest($"input '{match.Name}': {problem}");
        }

        if (!match.HasValues || match.Shape is null || match.Datatype is null)
        {
            throw ApiException.BadRequest($"input '{match.Name}' needs 'shape', 'datatype' and data");
        }

        return match;
    }

    private static int[] SelectOutputs(ModelVersion model, List<RequestedOutput>? requested)
    {
        if (requested is null || requested.Count == 0)
        {
            return [.. Enumerable.Range(0, model.Outputs.Count)];
        }

        var indexes = new int[requested.Count];
        for (var i = 0; i < requested.Count; i++)
        {
            var index = -1;
            for (var j = 0; j < model.Outputs.Count; j++)
            {
                if (model.Outputs[j].Name == requested[i].Name)
                {
                    index = j;
                }
            }

            indexes[i] = index >= 0 ? index : throw ApiException.BadRequest($"unknown output '{requested[i].Name}'");
        }

        return indexes;
    }

    private static void ThrowIfRefused(Admission admission)
    {
        switch (admission.Decision)
        {
            case AdmissionDecision.Admitted:
                return;
            case AdmissionDecision.RateLimited:
                throw new ApiException(StatusCodes.Status429TooManyRequests, "rate limit exceeded", admission.RetryAfterSeconds);
            case AdmissionDecision.QuotaExceeded:
                throw new ApiException(StatusCodes.Status429TooManyRequests, "daily quota exceeded", admission.RetryAfterSeconds);
            case AdmissionDecision.Blocked:
                throw new ApiException(StatusCodes.Status403Forbidden, "client is blocked");
            default:
                throw new ApiException(StatusCodes.Status401Unauthorized, "unknown API key");
        }
    }

    private bool ShouldSqueeze(bool adaptive) => protection.Value.Squeezing switch
    {
        SqueezingPolicy.Always => true,
        SqueezingPolicy.Adaptive => adaptive,
        SqueezingPolicy.Sample => Random.Shared.NextDouble() < protection.Value.SqueezingSampleRate,
        _ => false,
    };

    /// <summary>
    /// The input filter: an item whose squeezing score exceeds the model's calibrated threshold is
    /// flagged; with <paramref name="substitute"/> it is answered with the scores of its squeezed copy
    /// that moved furthest from the original (the copy whose squeezing undid most of a perturbation).
    /// </summary>
    private static bool[] Filter(ModelVersion model, ref InferenceResult result, int batchSize, bool substitute)
    {
        var threshold = model.SqueezeThreshold!.Value;
        var squeezers = model.Squeezers.Count;
        var scores = result.Outputs[0];
        var classes = scores.Length / batchSize;
        var flagged = new bool[batchSize];
        float[]? filtered = null;
        for (var i = 0; i < batchSize; i++)
        {
            if (!(result.SqueezeScores![i] > threshold))
            {
                continue;
            }

            flagged[i] = true;
            if (!substitute)
            {
                continue;
            }

            filtered ??= (float[])scores.Clone();
            var original = scores.AsSpan(i * classes, classes);
            var best = 0;
            var bestDistance = -1f;
            for (var s = 0; s < squeezers; s++)
            {
                var copy = result.SqueezedScores!.AsSpan(((i * squeezers) + s) * classes, classes);
                var distance = System.Numerics.Tensors.TensorPrimitives.Distance(original, copy);
                if (distance > bestDistance)
                {
                    bestDistance = distance;
                    best = s;
                }
            }

            result.SqueezedScores!.AsSpan(((i * squeezers) + best) * classes, classes).CopyTo(filtered.AsSpan(i * classes, classes));
        }

        if (filtered is not null)
        {
            result = result with { Outputs = [filtered, .. result.Outputs.Skip(1)] };
        }

        return flagged;
    }

    /// <summary>Answers every row of the first output (the class scores) with its decoy class.</summary>
    private InferenceResult Misinform(InferenceResult result, int batchSize)
    {
        var scores = (float[])result.Outputs[0].Clone();
        var classes = scores.Length / batchSize;
        var shift = features.MisinformationShift(classes);
        for (var i = 0; i < batchSize; i++)
        {
            Misinformation.Apply(scores.AsSpan(i * classes, classes), shift);
        }

        return result with { Outputs = [scores, .. result.Outputs.Skip(1)] };
    }

    /// <summary>Hardens the first output (the class scores) row by row; the predicted label never changes.</summary>
    private InferenceResult Harden(InferenceResult result, int batchSize)
    {
        var scores = (float[])result.Outputs[0].Clone();
        var classes = scores.Length / batchSize;
        for (var i = 0; i < batchSize; i++)
        {
            OutputHardener.Apply(scores.AsSpan(i * classes, classes), _degraded, Random.Shared);
        }

        return result with { Outputs = [scores, .. result.Outputs.Skip(1)] };
    }

    private static partial class Log
    {
        [LoggerMessage(3, LogLevel.Warning, "Client {ClientId}: its state cannot be loaded; served without protection (Shield:Protection:StateUnavailable is Serve)")]
        public static partial void FailedOpen(ILogger logger, Exception exception, string clientId);
    }
}
