using Microsoft.Extensions.Options;

namespace ShieldCluster.Server.Options;

/// <summary>Checks what data annotations cannot: distinct ports, and modes this build serves.</summary>
public sealed class ShieldOptionsValidator : IValidateOptions<ShieldOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ShieldOptions options)
    {
        var failures = new List<string>();
        if (options.SiloPort == options.GatewayPort)
        {
            failures.Add($"Shield:SiloPort and Shield:GatewayPort must differ (both {options.SiloPort})");
        }

        if (options.Redis is not null)
        {
            try
            {
                StackExchange.Redis.ConfigurationOptions.Parse(options.Redis);
            }
            catch (ArgumentException ex)
            {
                failures.Add($"Shield:Redis is not a valid StackExchange.Redis connection string: {ex.Message}");
            }
        }

        if (options.Kubernetes && string.IsNullOrWhiteSpace(options.Redis))
        {
            failures.Add("Shield:Kubernetes needs Shield:Redis: cluster membership and grain state live in Redis");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
