using System.Buffers;
using System.Collections.Concurrent;
using System.Numerics.Tensors;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using ShieldCluster.Contracts;
using ShieldCluster.Inference.Runtime;
using ShieldCluster.Protection.Detectors;
using ShieldCluster.Protection.Features;
using ShieldCluster.Protection.Numerics;
using ShieldCluster.Protection.OutputHardening;
using ShieldCluster.Server.Options;

namespace ShieldCluster.Server.Serving;

/// <summary>
/// Turns a served request into the compact record the client's grain keeps: per item a digest, the
/// input quantised to bytes and its salted Blacklight fingerprint (with the deployment's secret salt
/// from <c>Shield:Detection:Salt</c>, or a random one in the embedded default), plus the predicted
/// class. Raw tensors never leave the silo that served them. Inputs larger than
/// <see cref="QueryFeatureExtractor.MaxFingerprintValues"/> values are fingerprinted on their
/// per-channel cells (a 3x224x224 image on 3x32x32 block means), so the cost per query stays bounded.
/// </summary>
public sealed partial class QueryFeatures
{
    private readonly ConcurrentDictionary<ModelVersion, BlacklightFingerprinter> _fingerprinters = new();
    private readonly BlacklightOptions _blacklight;
    private readonly byte[] _secret;

    /// <summary>Creates the service; a missing salt is replaced by a random one (logged once, never printed).</summary>
    public QueryFeatures(IOptions<DetectionOptions> detection, IOptions<SecretOptions> secrets, ILogger<QueryFeatures> logger)
    {
        _blacklight = detection.Value.Blacklight;
        if (secrets.Value.Salt is { Length: > 0 } salt)
        {
            _secret = SHA256.HashData(Encoding.UTF8.GetBytes(salt));
        }
        else
        {
            _secret = RandomNumberGenerator.GetBytes(32);
            Log.RandomSalt(logger);
        }
    }

    /// <summary>This deployment's misinformation shift for <paramref name="classes"/> classes (from the secret salt).</summary>
    public int MisinformationShift(int classes) => Misinformation.ShiftFor(_secret, classes);

    /// <summary>Builds the record of a served request.</summary>
    public QueryRecord Build(ModelVersion model, float[] input, int batchSize, float[] scores, bool[]? squeezeFlags, DateTimeOffset at) =>
        Build(model, Extract(model, input, batchSize), scores, squeezeFlags, at);

    /// <summary>
    /// The part of a request's record that depends on its input alone (per item: digest, thumbnail,
    /// fingerprint), so that it can be computed while the model runs. An fp16 model's items are
    /// taken as the model reads them, in half precision: FP32 values (from JSON) are narrowed first,
    /// so the same image has the same digest whichever encoding carried it.
    /// </summary>
    public ExtractedItem[] Extract(ModelVersion model, float[] input, int batchSize)
    {
        if (!model.HalfPrecision)
        {
            return Extract(model, input, null, batchSize);
        }

        var narrowed = ArrayPool<Half>.Shared.Rent(input.Length);
        try
        {
            TensorPrimitives.ConvertToHalf(input, narrowed.AsSpan(0, input.Length));
            return Extract(model, null, narrowed.AsMemory(0, input.Length), batchSize);
        }
        finally
        {
            ArrayPool<Half>.Shared.Return(narrowed);
        }
    }

    /// <summary>The same for an FP16 input as it came (never widened as a whole: see <see cref="QueryFeatureExtractor.Extract(ReadOnlySpan{Half}, Span{float})"/>).</summary>
    public ExtractedItem[] Extract(ModelVersion model, Half[] input, int batchSize) => Extract(model, null, input, batchSize);

    private ExtractedItem[] Extract(ModelVersion model, float[]? singles, ReadOnlyMemory<Half> halves, int batchSize)
    {
        var extractor = model.Features;
        var reduce = extractor.ReducesForFingerprint;
        if (!_fingerprinters.TryGetValue(model, out var fingerprinter))
        {
            fingerprinter = _fingerprinters.GetOrAdd(model, m => new BlacklightFingerprinter(
                _blacklight, _secret, m.Features.ReducesForFingerprint ? m.Features.ChannelCellsLength : m.Features.ItemLength));
        }

        var itemLength = (singles?.Length ?? halves.Length) / batchSize;
        var items = new ExtractedItem[batchSize];
        var cells = ArrayPool<float>.Shared.Rent(extractor.ChannelCellsLength);
        // A small FP16 item is fingerprinted on its values themselves, widened here.
        var widened = singles is null && !reduce ? ArrayPool<float>.Shared.Rent(itemLength) : null;
        try
        {
            for (var i = 0; i < batchSize; i++)
            {
                Protection.Features.QueryFeatures features;
                ReadOnlySpan<float> hashed;
                if (singles is not null)
                {
                    var item = singles.AsSpan(i * itemLength, itemLength);
                    features = extractor.Extract(item, cells);
                    hashed = reduce ? cells.AsSpan(0, extractor.ChannelCellsLength) : item;
                }
                else
                {
                    var item = halves.Span.Slice(i * itemLength, itemLength);
                    features = extractor.Extract(item, cells);
                    if (widened is not null)
                    {
                        HalfWidening.Widen(item, widened.AsSpan(0, itemLength));
                    }

                    hashed = reduce ? cells.AsSpan(0, extractor.ChannelCellsLength) : widened.AsSpan(0, itemLength);
                }

                var fingerprint = fingerprinter.Fingerprint(hashed, model.Input.Min ?? 0f, model.Input.Max ?? 1f);
                items[i] = new ExtractedItem(features.Digest, features.Thumbnail, fingerprint);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(cells);
            if (widened is not null)
            {
                ArrayPool<float>.Shared.Return(widened);
            }
        }

        return items;
    }

    /// <summary>Completes the record of a served request from its extracted items and the model's class scores.</summary>
    public QueryRecord Build(ModelVersion model, ExtractedItem[] extracted, float[] scores, bool[]? squeezeFlags, DateTimeOffset at)
    {
        var batchSize = extracted.Length;
        var classes = scores.Length / batchSize;
        var items = new QueryItem[batchSize];
        for (var i = 0; i < batchSize; i++)
        {
            var row = scores.AsSpan(i * classes, classes);
            var label = TensorPrimitives.IndexOfMax(row);
            var item = extracted[i];
            items[i] = new QueryItem(item.Digest, label, row[label], item.Thumbnail, item.Fingerprint, squeezeFlags?[i]);
        }

        return new QueryRecord(at, model.Model, model.Version, items);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Shield:Detection:Salt is not set: this process uses a random fingerprint salt, so fingerprints do not match across processes or restarts")]
        public static partial void RandomSalt(ILogger logger);
    }
}

/// <summary>The input-only features of one item (see <see cref="QueryFeatures.Extract(ModelVersion, float[], int)"/>).</summary>
public readonly record struct ExtractedItem(ulong Digest, byte[] Thumbnail, ulong[] Fingerprint);
