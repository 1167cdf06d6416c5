namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// A query held by one of the indexes' flat stores (<see cref="PostingChains{TOwner}"/>,
/// <see cref="PostingBlocks{TOwner}"/>): its digest and owner, and where its postings are.
/// </summary>
/// <typeparam name="TOwner">What a query remembers about its sender.</typeparam>
internal struct IndexedQuery<TOwner>(ulong digest, TOwner owner, uint firstPosting, int length)
{
    public readonly ulong Digest = digest;
    public TOwner Owner = owner;
    public readonly uint FirstPosting = firstPosting;
    public readonly int Length = length;
}
