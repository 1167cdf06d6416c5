using System.Text.RegularExpressions;

namespace ShieldCluster.Contracts;

/// <summary>The rule for client ids: <c>^[a-z0-9][a-z0-9-]{0,63}$</c>.</summary>
public static partial class ClientIds
{
    /// <summary>Whether <paramref name="id"/> is a valid client id.</summary>
    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Pattern();
}
