using System.ComponentModel.DataAnnotations;

namespace ShieldCluster.Server.Options;

/// <summary>HTTP settings, bound from <c>Shield:Http</c>.</summary>
public sealed class HttpOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Shield:Http";

    /// <summary>Largest request body accepted; larger ones answer 413. Default 8 MiB.</summary>
    [Range(1024, 1L << 31)]
    public long MaxRequestBodyBytes { get; set; } = 8L << 20;

    /// <summary>
    /// How long a silo caches the resolution of a key created through the admin API, at most (each
    /// entry expires at a random point in the last quarter, so keys cached together do not renew
    /// together). Default 10 seconds. Keys from configuration resolve without a cache.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan KeyCacheDuration { get; set; } = TimeSpan.FromSeconds(10);
}
