namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// Parameters of the line-search (boundary-walk) detector. Distances are RMS differences per
/// feature on the 0-255 scale ("levels"), so they do not depend on the input's size.
/// </summary>
public sealed class LineSearchOptions
{
    /// <summary>
    /// The client's newest distinct inputs (retries and near-duplicates excluded) whose pairs span
    /// the lines a new query is tested against. Default 16: a decision-based attack blends its
    /// original with a starting image it sent a few queries before (HopSkipJump: the seeds, then up
    /// to 8 candidate starting images in one request).
    /// </summary>
    public int Memory { get; set; } = 16;

    /// <summary>
    /// The two ends of a line must be at least this far apart (RMS levels): a line between
    /// near-duplicates (an image and its re-encoding) says nothing. Default 16; HopSkipJump's ends
    /// (an image and a natural image of another class) were at least 40 apart in 200 simulated walks.
    /// </summary>
    public double MinSpanRms { get; set; } = 16;

    /// <summary>
    /// A query lies on the line when its distance from the line is at most this (RMS levels). Default
    /// 1.0: the byte quantisation of a binary search's steps leaves at most 0.34 (200 simulated
    /// HopSkipJump walks on Fashion-MNIST training images); honest images lie 4 or more off any line
    /// through two other inputs of the same client, clipped brightness variants of one image 1.03 or
    /// more (the brightness test below ignores those anyway).
    /// </summary>
    public double MaxResidualRms { get; set; } = 1.0;

    /// <summary>
    /// ... and at most this share of the ends' distance. Default 0.03 (HopSkipJump's steps: at most
    /// 0.0072).
    /// </summary>
    public double MaxResidualShare { get; set; } = 0.03;

    /// <summary>
    /// The query must be at least this far (RMS levels) from both ends: a re-encoding of one end lies
    /// near the line trivially. Default 4 (the near-duplicate distance).
    /// </summary>
    public double MinStepRms { get; set; } = 4;

    /// <summary>
    /// How far beyond the segment a query may lie, as a share of the segment (t in
    /// [-MaxExtrapolation, 1 + MaxExtrapolation]). Default 1: a binary search's steps lie on one
    /// line, each within the segment of two others or at most one segment's length outside it.
    /// </summary>
    public double MaxExtrapolation { get; set; } = 1;

    /// <summary>
    /// A line is ignored when one end is a brightness map of the other, or the query a brightness map
    /// of an end: when less than this share of their difference's energy is left unexplained by its
    /// mean per value of the end (brightness, contrast, gamma and their clipping change each value by
    /// an amount that depends on the value alone). Default 0.02: such maps of Fashion-MNIST test
    /// images left at most 0.0053 (2,487 collinear triples among 40 brightness, contrast and gamma
    /// variants of each of 300 images), the steps of simulated HopSkipJump walks at least 0.044
    /// (1,200 steps), and 0.1% of 20,000 random pairs of training images of different classes less
    /// than 0.023.
    /// </summary>
    public double MinUnexplainedShare { get; set; } = 0.02;
}
