namespace ShieldCluster.Server.Storage;

/// <summary>Log messages of the storage layer.</summary>
internal static partial class StorageLog
{
    [LoggerMessage(1, LogLevel.Warning, "Grain storage circuit {State}: while open, state writes stay in memory and are flushed when the store answers again")]
    public static partial void Circuit(ILogger logger, string state);
}
