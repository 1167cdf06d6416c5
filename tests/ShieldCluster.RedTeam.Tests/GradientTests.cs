using ShieldCluster.RedTeam.Substitute;

namespace ShieldCluster.RedTeam.Tests;

public sealed class GradientTests
{
    private const int Inputs = 12;
    private const int Classes = 4;

    public static TheoryData<string> Models => new() { "softmax", "mlp" };

    private static ISubstituteModel Create(string kind, int seed)
    {
        ISubstituteModel model = kind == "mlp" ? new Mlp(Inputs, 9, Classes) : new SoftmaxRegression(Inputs, Classes);
        var random = new Random(seed);
        model.Initialise(random);

        // Non-trivial weights everywhere, biases included.
        for (var i = 0; i < model.Parameters.Length; i++)
        {
            model.Parameters[i] += (float)(random.NextDouble() - 0.5) * 0.5f;
        }

        return model;
    }

    private static float[] Input(int seed) => Enumerable.Range(0, Inputs).Select(_ => (float)new Random(seed++).NextDouble()).ToArray();

    private static float[] SoftTarget()
    {
        float[] t = [0.1f, 0.6f, 0.05f, 0.25f];
        return t;
    }

    private static double Loss(ISubstituteModel model, float[] x, float[] target)
    {
        var logits = new float[Classes];
        model.Logits(x, logits);
        return SubstituteMath.CrossEntropy(logits, target, new float[Classes]);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Parameter_gradient_matches_finite_differences(string kind)
    {
        var model = Create(kind, 3);
        var x = Input(11);
        var target = SoftTarget();
        var logits = new float[Classes];
        var dLogits = new float[Classes];
        model.Logits(x, logits);
        SubstituteMath.CrossEntropy(logits, target, dLogits);
        var analytic = new float[model.Parameters.Length];
        model.Backward(x, dLogits, analytic, []);

        const float h = 1e-2f;
        for (var i = 0; i < model.Parameters.Length; i += 1 + (model.Parameters.Length / 60))
        {
            var saved = model.Parameters[i];
            model.Parameters[i] = saved + h;
            var up = Loss(model, x, target);
            model.Parameters[i] = saved - h;
            var down = Loss(model, x, target);
            model.Parameters[i] = saved;
            var numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - analytic[i]) <= 2e-3 + (2e-2 * Math.Abs(numeric)), $"{kind} parameter {i}: numeric {numeric}, analytic {analytic[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Input_gradient_of_loss_matches_finite_differences(string kind)
    {
        var model = Create(kind, 5);
        var x = Input(21);
        var analytic = new float[Inputs];
        SubstituteMath.LossInputGradient(model, x, 2, analytic);
        var onehot = new float[Classes];
        onehot[2] = 1;
        const float h = 1e-2f;
        for (var i = 0; i < Inputs; i++)
        {
            var saved = x[i];
            x[i] = saved + h;
            var up = Loss(model, x, onehot);
            x[i] = saved - h;
            var down = Loss(model, x, onehot);
            x[i] = saved;
            var numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - analytic[i]) <= 2e-3 + (2e-2 * Math.Abs(numeric)), $"{kind} input {i}: numeric {numeric}, analytic {analytic[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Input_gradient_of_probability_matches_finite_differences(string kind)
    {
        var model = Create(kind, 8);
        var x = Input(31);
        var analytic = new float[Inputs];
        SubstituteMath.ProbabilityInputGradient(model, x, 1, analytic);
        const float h = 1e-2f;
        for (var i = 0; i < Inputs; i++)
        {
            var saved = x[i];
            x[i] = saved + h;
            var up = SubstituteMath.Predict(model, x)[1];
            x[i] = saved - h;
            var down = SubstituteMath.Predict(model, x)[1];
            x[i] = saved;
            var numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - analytic[i]) <= 1e-3 + (2e-2 * Math.Abs(numeric)), $"{kind} input {i}: numeric {numeric}, analytic {analytic[i]}");
        }
    }

    [Fact]
    public void Cross_entropy_against_soft_targets_is_minimal_at_the_target()
    {
        var target = SoftTarget();
        var logits = target.Select(t => MathF.Log(t)).ToArray();
        var gradient = new float[Classes];
        var atTarget = SubstituteMath.CrossEntropy(logits, target, gradient);
        Assert.All(gradient, g => Assert.InRange(g, -1e-5f, 1e-5f));
        var entropy = -target.Sum(t => t * MathF.Log(t));
        Assert.Equal(entropy, atTarget, 4);
        Assert.True(SubstituteMath.CrossEntropy([0f, 0f, 0f, 0f], target, gradient) > atTarget);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Training_on_soft_labels_learns_a_separable_problem(string kind)
    {
        var random = new Random(4);
        const int n = 400;
        var centres = Enumerable.Range(0, Classes).Select(_ => Enumerable.Range(0, Inputs).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        var x = new float[n * Inputs];
        var y = new float[n * Classes];
        var labels = new int[n];
        for (var i = 0; i < n; i++)
        {
            labels[i] = i % Classes;
            for (var k = 0; k < Inputs; k++)
            {
                x[(i * Inputs) + k] = centres[labels[i]][k] + ((float)(random.NextDouble() - 0.5) * 0.3f);
            }

            // Soft label: most mass on the true class.
            for (var c = 0; c < Classes; c++)
            {
                y[(i * Classes) + c] = c == labels[i] ? 0.85f : 0.05f;
            }
        }

        ISubstituteModel model = kind == "mlp" ? new Mlp(Inputs, 16, Classes) : new SoftmaxRegression(Inputs, Classes);
        model.Initialise(new Random(1));
        var before = SubstituteMath.Accuracy(model, x, labels);
        var loss = SubstituteTrainer.Train(model, x, y, n, new TrainingOptions { Epochs = 60, BatchSize = 32, LearningRate = 1e-2f }, new Random(2));
        var after = SubstituteMath.Accuracy(model, x, labels);
        Assert.True(after >= 0.95, $"{kind}: accuracy {before} -> {after}, loss {loss}");
    }
}
