namespace ShieldCluster.Inference.Batching;

/// <summary>The model's queue is full: the request is refused at once rather than held in unbounded memory.</summary>
public sealed class LoadSheddingException(string message) : Exception(message);
