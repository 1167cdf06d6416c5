namespace ShieldCluster.RedTeam.Data;

/// <summary>
/// Grey-scale images with labels: <see cref="Count"/> images of <see cref="Pixels"/> values in
/// [0, 1], stored flat and row-major.
/// </summary>
public sealed class ImageDataset
{
    /// <summary>Creates a dataset; <paramref name="images"/> holds <c>labels.Length * pixels</c> values.</summary>
    public ImageDataset(float[] images, byte[] labels, int pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pixels, 1);
        if (images.Length != (long)labels.Length * pixels)
        {
            throw new ArgumentException($"{images.Length} values do not make {labels.Length} images of {pixels} pixels", nameof(images));
        }

        Images = images;
        Labels = labels;
        Pixels = pixels;
    }

    /// <summary>All images, flat.</summary>
    public float[] Images { get; }

    /// <summary>The class of each image.</summary>
    public byte[] Labels { get; }

    /// <summary>Values per image.</summary>
    public int Pixels { get; }

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>The image at <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Image(int index) => Images.AsSpan(index * Pixels, Pixels);

    /// <summary>A copy of the image at <paramref name="index"/>.</summary>
    public float[] CopyImage(int index) => Image(index).ToArray();

    /// <summary>A dataset of the images at <paramref name="indices"/>, in that order.</summary>
    public ImageDataset Subset(IReadOnlyList<int> indices)
    {
        var images = new float[indices.Count * Pixels];
        var labels = new byte[indices.Count];
        for (var i = 0; i < indices.Count; i++)
        {
            Image(indices[i]).CopyTo(images.AsSpan(i * Pixels, Pixels));
            labels[i] = Labels[indices[i]];
        }

        return new ImageDataset(images, labels, Pixels);
    }

    /// <summary>Reads an IDX image file and its IDX label file; bytes are scaled by 1/255.</summary>
    public static ImageDataset Load(string imagesPath, string labelsPath)
    {
        var (imageDims, pixels) = IdxReader.ReadFile(imagesPath);
        var (labelDims, labels) = IdxReader.ReadFile(labelsPath);
        if (imageDims.Length < 2 || labelDims.Length != 1 || imageDims[0] != labelDims[0])
        {
            throw new InvalidDataException(
                $"{imagesPath} ({string.Join('x', imageDims)}) and {labelsPath} ({string.Join('x', labelDims)}) do not match");
        }

        var perImage = 1;
        for (var i = 1; i < imageDims.Length; i++)
        {
            perImage *= imageDims[i];
        }

        var images = new float[pixels.Length];
        for (var i = 0; i < pixels.Length; i++)
        {
            images[i] = pixels[i] / 255f;
        }

        return new ImageDataset(images, labels, perImage);
    }
}
