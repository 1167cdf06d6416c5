using System.Globalization;
using System.Text;

namespace ShieldCluster.Server.Tests;

/// <summary>Requests for arbitrary images (perturbed copies and the like).</summary>
internal static class ImageRequests
{
    public static string Json(float[] image)
    {
        var builder = new StringBuilder("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[");
        for (var i = 0; i < image.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }

            builder.Append(image[i].ToString("R", CultureInfo.InvariantCulture));
        }

        return builder.Append("]}]}").ToString();
    }

    public static float[] Perturb(float[] image, Random random, float amplitude) =>
        [.. image.Select(v => Math.Clamp(v + (float)((random.NextDouble() - 0.5) * 2 * amplitude), 0f, 1f))];
}
