using System.Buffers;
using System.Globalization;
using System.Text.Json;
using ShieldCluster.Server.Serving;

namespace ShieldCluster.Server.Http;

/// <summary>
/// An Open Inference Protocol response over HTTP: JSON written straight to the response pipe, or,
/// when an output asked for binary data (Triton's binary tensor extension), the JSON header
/// followed by those outputs' raw little-endian bytes, with <see cref="BinaryTensors.Header"/>.
/// </summary>
public sealed class InferResponse(InferResult result) : IResult
{
    /// <inheritdoc />
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        var body = response.BodyWriter;
        if (!result.Outputs.Any(o => o.BinaryData))
        {
            response.ContentType = "application/json";
            using (var writer = new Utf8JsonWriter(body))
            {
                WriteJson(writer);
            }

            await body.FlushAsync(httpContext.RequestAborted);
            return;
        }

        // The header's length goes in a response header, so the JSON is written aside first.
        var header = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(header))
        {
            WriteJson(writer);
        }

        var binaryLength = result.Outputs.Where(o => o.BinaryData).Sum(o => (long)o.Data.Length * Fp32Bytes.Size);
        response.ContentType = "application/octet-stream";
        response.Headers[BinaryTensors.Header] = header.WrittenCount.ToString(CultureInfo.InvariantCulture);
        response.ContentLength = header.WrittenCount + binaryLength;
        body.Write(header.WrittenSpan);
        foreach (var output in result.Outputs.Where(o => o.BinaryData))
        {
            const int Chunk = 4096;
            for (var at = 0; at < output.Data.Length; at += Chunk)
            {
                var values = output.Data.AsSpan(at, Math.Min(Chunk, output.Data.Length - at));
                var bytes = values.Length * Fp32Bytes.Size;
                Fp32Bytes.Write(values, body.GetSpan(bytes));
                body.Advance(bytes);
            }
        }

        await body.FlushAsync(httpContext.RequestAborted);
    }

    private void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("model_name", result.Model);
        writer.WriteString("model_version", result.Version);
        if (result.Id is not null)
        {
            writer.WriteString("id", result.Id);
        }

        writer.WriteStartArray("outputs");
        foreach (var output in result.Outputs)
        {
            writer.WriteStartObject();
            writer.WriteString("name", output.Spec.Name);
            writer.WriteString("datatype", output.Spec.Datatype);
            writer.WriteStartArray("shape");
            foreach (var dim in output.Shape)
            {
                writer.WriteNumberValue(dim);
            }

            writer.WriteEndArray();
            if (output.BinaryData)
            {
                writer.WriteStartObject("parameters");
                writer.WriteNumber("binary_data_size", (long)output.Data.Length * Fp32Bytes.Size);
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteStartArray("data");
                foreach (var value in output.Data)
                {
                    writer.WriteNumberValue(value);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
