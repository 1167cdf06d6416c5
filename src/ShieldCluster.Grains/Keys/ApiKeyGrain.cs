using ShieldCluster.Contracts;

namespace ShieldCluster.Grains.Keys;

/// <summary>One API key (by its SHA-256) and the client it belongs to.</summary>
public sealed class ApiKeyGrain(
    [PersistentState("apikey", ShieldStorage.Name)] IPersistentState<ApiKeyState> state) : Grain, IApiKeyGrain
{
    /// <inheritdoc />
    public async Task<bool> BindAsync(string clientId)
    {
        if (state.State.ClientId is { } existing)
        {
            return existing == clientId;
        }

        state.State.ClientId = clientId;
        await state.WriteStateAsync();
        return true;
    }

    /// <inheritdoc />
    public Task<string?> ResolveAsync() => Task.FromResult(state.State.ClientId);
}
