using ShieldCluster.RedTeam.Data;
using ShieldCluster.RedTeam.Substitute;

namespace ShieldCluster.RedTeam.Tests;

/// <summary>Fashion-MNIST-shaped synthetic data (784 pixels, 10 classes) and a victim trained on it.</summary>
internal static class SyntheticData
{
    private static readonly Lazy<(FashionMnist Data, ISubstituteModel Victim)> Shared = new(Build);

    public static FashionMnist Data => Shared.Value.Data;

    public static ISubstituteModel Victim => Shared.Value.Victim;

    private static (FashionMnist, ISubstituteModel) Build()
    {
        var random = new Random(12345);
        const int pixels = 784, classes = 10;
        var background = Enumerable.Range(0, pixels).Select(_ => (float)random.NextDouble() * 0.6f + 0.2f).ToArray();
        var patterns = Enumerable.Range(0, classes)
            .Select(_ => Enumerable.Range(0, pixels).Select(_ => (float)(random.NextDouble() - 0.5) * 0.3f).ToArray())
            .ToArray();

        ImageDataset Make(int n)
        {
            var images = new float[n * pixels];
            var labels = new byte[n];
            for (var i = 0; i < n; i++)
            {
                labels[i] = (byte)random.Next(classes);
                for (var k = 0; k < pixels; k++)
                {
                    images[(i * pixels) + k] = Math.Clamp(background[k] + patterns[labels[i]][k] + ((float)(random.NextDouble() - 0.5) * 0.2f), 0f, 1f);
                }
            }

            return new ImageDataset(images, labels, pixels);
        }

        var data = FashionMnist.FromSets(Make(3000), Make(2600));
        var victim = new SoftmaxRegression(pixels, classes);
        victim.Initialise(new Random(1));
        var targets = new float[data.Train.Count * classes];
        for (var i = 0; i < data.Train.Count; i++)
        {
            targets[(i * classes) + data.Train.Labels[i]] = 1;
        }

        SubstituteTrainer.Train(victim, data.Train.Images, targets, data.Train.Count, new TrainingOptions { Epochs = 5, LearningRate = 1e-2f }, new Random(2));
        return (data, victim);
    }
}
