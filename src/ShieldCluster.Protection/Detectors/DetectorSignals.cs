namespace ShieldCluster.Protection.Detectors;

/// <summary>What a client's stateful detectors currently say, with the evidence behind it.</summary>
/// <param name="Queries">Items observed (retries included).</param>
/// <param name="Retries">Identical resends, which no detector counts.</param>
/// <param name="PradaW">PRADA's latest Shapiro-Wilk W, once enough distances were seen.</param>
/// <param name="PradaDistances">Distances in PRADA's window.</param>
/// <param name="PradaAlarm">Whether W is below PRADA's threshold.</param>
/// <param name="BlacklightMatches">Queries in Blacklight's window that matched an earlier query of this client.</param>
/// <param name="BlacklightBestOverlap">The most hashes the latest query shared with an earlier one.</param>
/// <param name="BlacklightAlarm">Whether the matches reached the alarm count.</param>
/// <param name="DistinctLabels">Classes seen among the client's answers.</param>
/// <param name="SqueezeFlags">Queries in the squeezing window that feature squeezing flagged.</param>
/// <param name="SqueezeChecked">Queries in the squeezing window (those squeezing ran on).</param>
/// <param name="SqueezeAlarm">Whether the flags reached the alarm count.</param>
/// <param name="LineSearchHits">Queries in the line-search window that lay on the line through two earlier, different inputs of this client.</param>
/// <param name="LineSearchAlarm">Whether the hits reached the alarm count.</param>
/// <param name="LineSearchTotal">Line-search hits since the detectors started.</param>
/// <param name="LineSearchLatest">The latest hit, if any.</param>
/// <param name="NearDuplicates">Near-duplicates of recent inputs, which PRADA and the squeezing count skip.</param>
/// <param name="CrossClientMatches">Of the client's last items the cluster-wide index checked, those that matched another client's earlier query.</param>
public readonly record struct DetectorSignals(
    long Queries,
    long Retries,
    double? PradaW,
    int PradaDistances,
    bool PradaAlarm,
    int BlacklightMatches,
    int BlacklightBestOverlap,
    bool BlacklightAlarm,
    int DistinctLabels,
    int SqueezeFlags = 0,
    int SqueezeChecked = 0,
    bool SqueezeAlarm = false,
    int CrossClientMatches = 0,
    long NearDuplicates = 0,
    int LineSearchHits = 0,
    bool LineSearchAlarm = false,
    long LineSearchTotal = 0,
    LineSearchHit? LineSearchLatest = null);
