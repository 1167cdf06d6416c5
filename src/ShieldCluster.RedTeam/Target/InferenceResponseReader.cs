using System.Text.Json;

namespace ShieldCluster.RedTeam.Target;

/// <summary>Reads the scores out of an Open Inference Protocol response body.</summary>
internal static class InferenceResponseReader
{
    public static float[] ReadScores(string body, int count, int classes)
    {
        using var document = JsonDocument.Parse(body);
        var outputs = document.RootElement.GetProperty("outputs");
        JsonElement? chosen = null;
        foreach (var output in outputs.EnumerateArray())
        {
            chosen ??= output;
            if (output.TryGetProperty("name", out var name) && name.GetString() == "probabilities")
            {
                chosen = output;
                break;
            }
        }

        if (chosen is not { } probabilities)
        {
            throw new InvalidDataException("the answer has no outputs");
        }

        var scores = new float[count * classes];
        var i = 0;
        Flatten(probabilities.GetProperty("data"), scores, ref i);
        if (i != scores.Length)
        {
            throw new InvalidDataException($"expected {scores.Length} scores, got {i}");
        }

        return scores;
    }

    private static void Flatten(JsonElement element, float[] into, ref int i)
    {
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                Flatten(item, into, ref i);
            }
            else
            {
                if (i >= into.Length)
                {
                    throw new InvalidDataException("more scores than expected");
                }

                into[i++] = item.GetSingle();
            }
        }
    }
}
