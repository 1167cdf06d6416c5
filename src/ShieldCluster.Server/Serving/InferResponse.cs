using System.Text.Json;
using ShieldCluster.Protection.Validation;

namespace ShieldCluster.Server.Serving;

/// <summary>An Open Inference Protocol response, written straight to the response pipe.</summary>
public sealed class InferResponse(string model, string version, string? id, IReadOnlyList<InferOutput> outputs) : IResult
{
    /// <inheritdoc />
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = "application/json";
        var body = httpContext.Response.BodyWriter;
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("model_name", model);
            writer.WriteString("model_version", version);
            if (id is not null)
            {
                writer.WriteString("id", id);
            }

            writer.WriteStartArray("outputs");
            foreach (var output in outputs)
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
                writer.WriteStartArray("data");
                foreach (var value in output.Data)
                {
                    writer.WriteNumberValue(value);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        await body.FlushAsync(httpContext.RequestAborted);
    }
}

/// <summary>One output tensor of a response.</summary>
public sealed record InferOutput(TensorSpec Spec, long[] Shape, float[] Data);
