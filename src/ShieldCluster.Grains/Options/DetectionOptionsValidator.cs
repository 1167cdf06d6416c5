using Microsoft.Extensions.Options;
using ShieldCluster.Protection.Detectors;

namespace ShieldCluster.Grains.Options;

/// <summary>Validates the detectors' parameters (<c>Shield:Detection</c>), naming each bad key.</summary>
public sealed class DetectionOptionsValidator : IValidateOptions<DetectionOptions>
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Shield:Detection";

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, DetectionOptions options)
    {
        var failures = new List<string>();
        var prada = options.Prada;
        if (!(prada.Delta is > 0 and < 1))
        {
            failures.Add($"{Section}:Prada:Delta must be in (0, 1)");
        }

        if (prada.Window is < 3 or > 5000)
        {
            failures.Add($"{Section}:Prada:Window must be 3 to 5000");
        }

        if (prada.MinDistances < 3 || prada.MinDistances > prada.Window)
        {
            failures.Add($"{Section}:Prada:MinDistances must be 3 to Window");
        }

        if (prada.MaxPerClass < 1)
        {
            failures.Add($"{Section}:Prada:MaxPerClass must be at least 1");
        }

        var blacklight = options.Blacklight;
        if (blacklight.Window < 1 || blacklight.Keep < 1 || blacklight.Quantum is < 1 or > 255 || blacklight.IndexCapacity < 1)
        {
            failures.Add($"{Section}:Blacklight: Window, Keep and IndexCapacity must be positive and Quantum 1 to 255");
        }

        if (blacklight.MatchThreshold < 1 || blacklight.MatchThreshold >= blacklight.Keep)
        {
            failures.Add($"{Section}:Blacklight:MatchThreshold must be 1 to Keep - 1");
        }

        if (options.RetryMemory < 1 || options.BlacklightWindow < 1 || options.BlacklightAlarmMatches < 1 || options.BlacklightAlarmMatches > options.BlacklightWindow)
        {
            failures.Add($"{Section}: RetryMemory and BlacklightWindow must be positive, BlacklightAlarmMatches 1 to BlacklightWindow");
        }

        if (options.CrossClientShards is < 1 or > 1024 || options.CrossClientShardCapacity < 1
            || options.CrossClientAlarmMatches < 1 || options.CrossClientAlarmMatches > options.CrossClientWindow
            || options.CrossClientPostingsPerHash is < 1 or > HashPostings<string>.MaxMaxPerHash || options.CrossClientQueue < 1)
        {
            failures.Add($"{Section}: CrossClientShards must be 1 to 1024, CrossClientShardCapacity and CrossClientQueue positive, CrossClientPostingsPerHash 1 to 32768, CrossClientAlarmMatches 1 to CrossClientWindow");
        }

        if (options.CrossClientGatherDelay < TimeSpan.Zero || options.CrossClientGatherDelay > TimeSpan.FromSeconds(1))
        {
            failures.Add($"{Section}:CrossClientGatherDelay must be 0 to 1 second");
        }

        if (!(options.NearDuplicateRms >= 0) || options.NearDuplicateMemory < 1 || options.PopularClients < 2)
        {
            failures.Add($"{Section}: NearDuplicateRms must be 0 or more, NearDuplicateMemory positive, PopularClients at least 2");
        }

        if (options.SqueezeWindow < 1 || options.SqueezeAlarmFlags < 1 || options.SqueezeAlarmFlags > options.SqueezeWindow)
        {
            failures.Add($"{Section}: SqueezeWindow must be positive, SqueezeAlarmFlags 1 to SqueezeWindow");
        }

        var lineSearch = options.LineSearch;
        if (lineSearch.Memory is < 2 or > 256 || !(lineSearch.MinSpanRms > 0) || !(lineSearch.MaxResidualRms >= 0) || !(lineSearch.MaxResidualShare >= 0)
            || !(lineSearch.MinStepRms >= 0) || !(lineSearch.MaxExtrapolation >= 0) || !(lineSearch.MinUnexplainedShare is >= 0 and <= 1))
        {
            failures.Add($"{Section}:LineSearch: Memory must be 2 to 256, MinSpanRms positive, MinUnexplainedShare 0 to 1, MaxResidualRms, MaxResidualShare, MinStepRms and MaxExtrapolation 0 or more");
        }

        if (options.LineSearchWindow < 1 || options.LineSearchAlarmHits < 1 || options.LineSearchAlarmHits > options.LineSearchWindow)
        {
            failures.Add($"{Section}: LineSearchWindow must be positive, LineSearchAlarmHits 1 to LineSearchWindow");
        }

        if (options.PeerReportInterval < TimeSpan.Zero || options.PeerReportInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"{Section}:PeerReportInterval must be 0 to 01:00:00 (got {options.PeerReportInterval})");
        }

        if (options.PeerCapacity is < 1 or > 10_000_000)
        {
            failures.Add($"{Section}:PeerCapacity must be 1 to 10,000,000 (got {options.PeerCapacity})");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
