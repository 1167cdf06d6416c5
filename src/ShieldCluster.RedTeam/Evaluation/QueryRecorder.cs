using ShieldCluster.RedTeam.Target;

namespace ShieldCluster.RedTeam.Evaluation;

/// <summary>
/// Wraps one client of the target and keeps the tally the report needs: items sent, the index of
/// the first refused or degraded item, and how often the client was rate limited.
/// </summary>
/// <remarks>
/// A refusal is a 403, or a 400 to an input the tool knows is well formed (shape, type and [0, 1]
/// range are always right here, so a 400 can only be the server's input filter). A 429 is counted
/// but is not a refusal: it is the plan's rate limit, honoured by waiting.
/// </remarks>
public sealed class QueryRecorder : ITargetModel
{
    private readonly ITargetClient _client;
    private readonly Lock _gate = new();

    /// <summary>Wraps <paramref name="client"/>.</summary>
    public QueryRecorder(ITargetClient client, bool attacker)
    {
        _client = client;
        IsAttacker = attacker;
    }

    /// <summary>The client id on the target.</summary>
    public string ClientId => _client.ClientId;

    /// <summary>Whether this client's traffic is attack traffic (observers measure, they do not attack).</summary>
    public bool IsAttacker { get; }

    /// <inheritdoc />
    public int Pixels => _client.Pixels;

    /// <inheritdoc />
    public int Classes => _client.Classes;

    /// <summary>Items (images) sent, answered or not.</summary>
    public int Queries { get; private set; }

    /// <summary>1-based index of the first item answered with a refusal or degraded scores; null if none.</summary>
    public int? FirstRefusalQuery { get; private set; }

    /// <summary>Requests refused (403, or 400 to a valid input).</summary>
    public int Refusals { get; private set; }

    /// <summary>Items answered with degraded (one-hot) scores.</summary>
    public int DegradedItems { get; private set; }

    /// <summary>429s waited out.</summary>
    public int RateLimitWaits { get; private set; }

    /// <summary>Requests that stayed rate limited beyond the retry cap.</summary>
    public int RateLimitFailures { get; private set; }

    /// <summary>Requests that failed for transport reasons or server errors.</summary>
    public int Failures { get; private set; }

    /// <summary>The last failure's text.</summary>
    public string? LastError { get; private set; }

    /// <summary>True once the target answered 403: further queries are pointless.</summary>
    public bool Blocked { get; private set; }

    /// <inheritdoc />
    public async Task<InferenceResponse> InferAsync(ReadOnlyMemory<float> images, int count, CancellationToken cancellationToken)
    {
        var response = await _client.InferAsync(images, count, cancellationToken);
        lock (_gate)
        {
            var first = Queries + 1;
            Queries += count;
            RateLimitWaits += response.RateLimitWaits;
            switch (response.Kind)
            {
                case ResponseKind.Answered:
                    var row = response.FirstDegradedRow;
                    if (row >= 0)
                    {
                        FirstRefusalQuery ??= first + row;
                        DegradedItems += response.Degraded.Count(d => d);
                    }

                    break;
                case ResponseKind.Blocked:
                    Blocked = true;
                    Refusals++;
                    FirstRefusalQuery ??= first;
                    break;
                case ResponseKind.Rejected when response.StatusCode == 400:
                    Refusals++;
                    FirstRefusalQuery ??= first;
                    LastError = response.Error;
                    break;
                case ResponseKind.RateLimited:
                    RateLimitFailures++;
                    LastError = response.Error;
                    break;
                default:
                    Failures++;
                    LastError = $"{response.StatusCode}: {response.Error}";
                    break;
            }
        }

        return response;
    }
}
