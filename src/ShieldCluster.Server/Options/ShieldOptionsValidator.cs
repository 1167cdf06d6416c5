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
            failures.Add("Shield:Redis is set, but Redis clustering and storage are not in this build yet; unset it to run the embedded default");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
