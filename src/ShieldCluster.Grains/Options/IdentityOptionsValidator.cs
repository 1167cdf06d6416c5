using System.Globalization;
using Microsoft.Extensions.Options;
using ShieldCluster.Contracts;

namespace ShieldCluster.Grains.Options;

/// <summary>Validates plans, clients and admins, listing every failure with the key it concerns.</summary>
public sealed class IdentityOptionsValidator : IValidateOptions<IdentityOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, IdentityOptions options)
    {
        var failures = new List<string>();
        foreach (var (plan, limits) in options.Plans)
        {
            var key = $"Shield:Plans:{plan}";
            if (!(limits.RequestsPerSecond > 0) || double.IsInfinity(limits.RequestsPerSecond))
            {
                failures.Add($"{key}:RequestsPerSecond must be a positive number (got {limits.RequestsPerSecond.ToString(CultureInfo.InvariantCulture)})");
            }

            if (limits.Burst < 1)
            {
                failures.Add($"{key}:Burst must be at least 1 (got {limits.Burst})");
            }

            if (limits.DailyQuota < 1)
            {
                failures.Add($"{key}:DailyQuota must be at least 1 (got {limits.DailyQuota})");
            }

            failures.AddRange(limits.Risk.Validate($"{key}:Risk"));
        }

        var hashes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, client) in options.Clients)
        {
            var key = $"Shield:Clients:{id}";
            if (!ClientIds.IsValid(id))
            {
                failures.Add($"{key}: client id must match ^[a-z0-9][a-z0-9-]{{0,63}}$");
            }

            CheckHash($"{key}:ApiKeySha256", client.ApiKeySha256, hashes, failures);
            if (!options.Plans.ContainsKey(client.Plan))
            {
                failures.Add($"{key}:Plan '{client.Plan}' is not a configured plan (known: {string.Join(", ", options.Plans.Keys.Order())})");
            }

            for (var i = 0; i < client.Models.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(client.Models[i]))
                {
                    failures.Add($"{key}:Models:{i} must name a model");
                }
            }
        }

        foreach (var (admin, settings) in options.Admins)
        {
            CheckHash($"Shield:Admins:{admin}:ApiKeySha256", settings.ApiKeySha256, hashes, failures);
            if (settings.ParsedRole is null)
            {
                failures.Add($"Shield:Admins:{admin}:Role must be security or viewer (got '{settings.Role}')");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckHash(string key, string hash, Dictionary<string, string> seen, List<string> failures)
    {
        if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigit))
        {
            failures.Add($"{key} must be the key's SHA-256 as 64 hex digits");
            return;
        }

        if (!seen.TryAdd(hash, key))
        {
            failures.Add($"{key} is the same key as {seen[hash]}");
        }
    }
}
