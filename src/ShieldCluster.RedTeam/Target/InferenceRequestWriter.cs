using System.Text.Json;

namespace ShieldCluster.RedTeam.Target;

/// <summary>Writes an Open Inference Protocol request body for a batch of 1x28x28 FP32 images.</summary>
internal static class InferenceRequestWriter
{
    public static byte[] Write(string inputName, ReadOnlySpan<float> images, int count, int pixels)
    {
        var side = (int)Math.Round(Math.Sqrt(pixels));
        using var buffer = new MemoryStream(images.Length * 10 + 128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("inputs");
            json.WriteStartObject();
            json.WriteString("name", inputName);
            json.WriteStartArray("shape");
            json.WriteNumberValue(count);
            json.WriteNumberValue(1);
            json.WriteNumberValue(side);
            json.WriteNumberValue(pixels / side);
            json.WriteEndArray();
            json.WriteString("datatype", "FP32");
            json.WriteStartArray("data");
            foreach (var v in images)
            {
                json.WriteNumberValue(v);
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
