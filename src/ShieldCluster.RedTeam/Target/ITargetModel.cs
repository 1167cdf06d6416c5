namespace ShieldCluster.RedTeam.Target;

/// <summary>A classifier reachable only by queries, as one client of the target sees it.</summary>
public interface ITargetModel
{
    /// <summary>Input values per image.</summary>
    int Pixels { get; }

    /// <summary>Scores per image.</summary>
    int Classes { get; }

    /// <summary>Classifies <paramref name="count"/> images laid out flat in <paramref name="images"/>.</summary>
    Task<InferenceResponse> InferAsync(ReadOnlyMemory<float> images, int count, CancellationToken cancellationToken);
}
