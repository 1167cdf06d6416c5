using System.Numerics.Tensors;

namespace ShieldCluster.RedTeam.Substitute;

/// <summary>
/// Trains a substitute on (input, probability vector) pairs by minimising cross-entropy against
/// the soft targets with mini-batch Adam; hard labels are the one-hot special case.
/// </summary>
public static class SubstituteTrainer
{
    /// <summary>
    /// Trains <paramref name="model"/> in place on <paramref name="count"/> examples.
    /// </summary>
    /// <returns>The mean loss of the last epoch.</returns>
    public static float Train(ISubstituteModel model, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count, TrainingOptions options, Random random, CancellationToken cancellationToken = default)
    {
        if (inputs.Length != count * model.Inputs || targets.Length != count * model.Classes)
        {
            throw new ArgumentException("inputs and targets do not match the count and the model's shape");
        }

        if (count == 0)
        {
            return 0;
        }

        const float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
        var parameters = model.Parameters;
        var gradient = new float[parameters.Length];
        var m = new float[parameters.Length];
        var v = new float[parameters.Length];
        var scratch = new float[parameters.Length];
        var logits = new float[model.Classes];
        var dLogits = new float[model.Classes];
        var order = Enumerable.Range(0, count).ToArray();
        var step = 0;
        float lastLoss = 0;
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            random.Shuffle(order);
            double epochLoss = 0;
            for (var start = 0; start < count; start += options.BatchSize)
            {
                var size = Math.Min(options.BatchSize, count - start);
                Array.Clear(gradient);
                for (var k = 0; k < size; k++)
                {
                    var i = order[start + k];
                    var x = inputs.Slice(i * model.Inputs, model.Inputs);
                    model.Logits(x, logits);
                    epochLoss += SubstituteMath.CrossEntropy(logits, targets.Slice(i * model.Classes, model.Classes), dLogits);
                    model.Backward(x, dLogits, gradient, []);
                }

                // g = mean gradient + weight decay; Adam moments with bias correction.
                step++;
                TensorPrimitives.Multiply(gradient, 1f / size, gradient);
                TensorPrimitives.MultiplyAdd(parameters, options.WeightDecay, gradient, gradient);
                TensorPrimitives.Multiply(m, beta1, m);
                TensorPrimitives.MultiplyAdd(gradient, 1 - beta1, m, m);
                TensorPrimitives.Multiply(gradient, gradient, scratch);
                TensorPrimitives.Multiply(v, beta2, v);
                TensorPrimitives.MultiplyAdd(scratch, 1 - beta2, v, v);
                var correction1 = 1 - MathF.Pow(beta1, step);
                var correction2 = 1 - MathF.Pow(beta2, step);
                TensorPrimitives.Multiply(v, 1f / correction2, scratch);
                TensorPrimitives.Sqrt(scratch, scratch);
                TensorPrimitives.Add(scratch, epsilon, scratch);
                TensorPrimitives.Divide(m, scratch, scratch);
                TensorPrimitives.MultiplyAdd(scratch, -options.LearningRate / correction1, parameters, parameters);
            }

            lastLoss = (float)(epochLoss / count);
        }

        return lastLoss;
    }
}
