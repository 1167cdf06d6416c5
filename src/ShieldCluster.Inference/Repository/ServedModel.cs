using System.Globalization;
using ShieldCluster.Inference.Runtime;

namespace ShieldCluster.Inference.Repository;

/// <summary>A model in the repository with the versions that passed their integrity check.</summary>
public sealed class ServedModel(string name, string platform, IReadOnlyList<ModelVersion> versions)
{
    /// <summary>The model's name.</summary>
    public string Name { get; } = name;

    /// <summary>Triton's platform name.</summary>
    public string Platform { get; } = platform;

    /// <summary>Loaded versions, lowest first.</summary>
    public IReadOnlyList<ModelVersion> Versions { get; } = versions;

    /// <summary>The version served when a request names none: the highest.</summary>
    public ModelVersion Latest => Versions[^1];

    /// <summary>The named version (or the latest when <paramref name="version"/> is null), if loaded.</summary>
    public ModelVersion? Get(string? version)
    {
        if (version is null)
        {
            return Latest;
        }

        if (!long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }

        foreach (var candidate in Versions)
        {
            if (long.Parse(candidate.Version, CultureInfo.InvariantCulture) == number)
            {
                return candidate;
            }
        }

        return null;
    }
}
