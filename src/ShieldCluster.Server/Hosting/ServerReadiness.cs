namespace ShieldCluster.Server.Hosting;

/// <summary>Whether the server is ready: the silo runs, models are loaded and start-up tasks are done.</summary>
public sealed class ServerReadiness
{
    private volatile bool _ready;

    /// <summary>True once start-up finished.</summary>
    public bool IsReady => _ready;

    /// <summary>Marks the server ready.</summary>
    public void MarkReady() => _ready = true;
}
