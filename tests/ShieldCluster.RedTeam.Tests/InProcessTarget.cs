using System.Collections.Concurrent;
using ShieldCluster.RedTeam.Substitute;
using ShieldCluster.RedTeam.Target;

namespace ShieldCluster.RedTeam.Tests;

/// <summary>
/// A target served in process by a model, with a toy defence for logic tests: block a client after
/// a number of queries, or answer label-only (one-hot) from a number of queries on.
/// </summary>
internal sealed class InProcessTarget(ISubstituteModel model, int? blockAfter = null, int? degradeAfter = null, string name = "in-process") : ITarget
{
    private readonly ConcurrentDictionary<string, Client> _clients = new();
    private int _next;

    public string Name => name;

    public ISubstituteModel Model { get; } = model;

    public int? BlockAfter { get; } = blockAfter;

    public int? DegradeAfter { get; } = degradeAfter;

    public int ClientsCreated => _clients.Count;

    public Task CheckReachableAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<ITargetClient> CreateClientAsync(string role, string plan, CancellationToken cancellationToken)
    {
        var client = new Client(this, $"{role}-{Interlocked.Increment(ref _next)}");
        _clients[client.ClientId] = client;
        return Task.FromResult<ITargetClient>(client);
    }

    public Task<ClientReport?> GetReportAsync(string clientId, CancellationToken cancellationToken)
    {
        if (!_clients.TryGetValue(clientId, out var client))
        {
            return Task.FromResult<ClientReport?>(null);
        }

        var state = client.Blocked ? "blocked" : client.Degraded ? "degraded" : "ok";
        return Task.FromResult<ClientReport?>(new ClientReport { ClientId = clientId, Enforcement = state, WorstEnforcement = state, Risk = state == "ok" ? 0 : 1 });
    }

    private sealed class Client(InProcessTarget target, string id) : ITargetClient
    {
        private int _queries;

        public string ClientId => id;

        public int Pixels => target.Model.Inputs;

        public int Classes => target.Model.Classes;

        public bool Blocked { get; private set; }

        public bool Degraded { get; private set; }

        public Task<InferenceResponse> InferAsync(ReadOnlyMemory<float> images, int count, CancellationToken cancellationToken)
        {
            if (Blocked || (target.BlockAfter is { } b && _queries + count > b))
            {
                Blocked = true;
                return Task.FromResult(InferenceResponse.Failed(ResponseKind.Blocked, 403, "client is blocked"));
            }

            var m = target.Model;
            var scores = new float[count * m.Classes];
            for (var i = 0; i < count; i++)
            {
                var p = SubstituteMath.Predict(m, images.Span.Slice(i * m.Inputs, m.Inputs));
                var row = scores.AsSpan(i * m.Classes, m.Classes);
                _queries++;
                if (target.DegradeAfter is { } d && _queries > d)
                {
                    Degraded = true;
                    row[Array.IndexOf(p, p.Max())] = 1;
                }
                else
                {
                    p.CopyTo(row);
                }
            }

            return Task.FromResult(InferenceResponse.FromScores(scores, m.Classes));
        }
    }
}
