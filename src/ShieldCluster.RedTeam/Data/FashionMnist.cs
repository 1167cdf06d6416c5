namespace ShieldCluster.RedTeam.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017, arXiv 1708.07747) as Debian's
/// <c>dataset-fashion-mnist</c> package installs it: 60,000 training and 10,000 test images of
/// 28x28 pixels in ten classes.
/// </summary>
public sealed class FashionMnist
{
    /// <summary>Where Debian's package puts the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Pixels per image.</summary>
    public const int Pixels = 28 * 28;

    /// <summary>Number of classes.</summary>
    public const int Classes = 10;

    private FashionMnist(ImageDataset train, ImageDataset test)
    {
        Train = train;
        Test = test;
    }

    /// <summary>The training set: attackers' natural images come from here.</summary>
    public ImageDataset Train { get; }

    /// <summary>The test set: stolen copies are judged here, and honest clients send these.</summary>
    public ImageDataset Test { get; }

    /// <summary>Loads both sets from <paramref name="directory"/>.</summary>
    public static FashionMnist Load(string directory = DefaultDirectory)
    {
        var train = ImageDataset.Load(
            Path.Combine(directory, "train-images-idx3-ubyte.gz"),
            Path.Combine(directory, "train-labels-idx1-ubyte.gz"));
        var test = ImageDataset.Load(
            Path.Combine(directory, "t10k-images-idx3-ubyte.gz"),
            Path.Combine(directory, "t10k-labels-idx1-ubyte.gz"));
        if (train.Pixels != Pixels || test.Pixels != Pixels)
        {
            throw new InvalidDataException($"expected {Pixels} pixels per image in {directory}");
        }

        return new FashionMnist(train, test);
    }

    /// <summary>Wraps already loaded sets (tests, other sources).</summary>
    public static FashionMnist FromSets(ImageDataset train, ImageDataset test) => new(train, test);
}
