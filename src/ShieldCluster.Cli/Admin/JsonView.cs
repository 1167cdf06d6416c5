using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace ShieldCluster.Cli.Admin;

/// <summary>
/// Reads the admin API's JSON leniently (a member the server lacks shows as "-", a member it adds
/// still shows where the view is generic) and formats values for tables, escaped for markup.
/// </summary>
internal static class JsonView
{
    /// <summary>The member <paramref name="name"/>, or default when absent or not an object.</summary>
    public static JsonElement Member(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    /// <summary>A string member, or null.</summary>
    public static string? String(this JsonElement element, string name) =>
        element.Member(name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    /// <summary>A number member, or null.</summary>
    public static double? Number(this JsonElement element, string name) =>
        element.Member(name) is { ValueKind: JsonValueKind.Number } value ? value.GetDouble() : null;

    /// <summary>The items of an array member (none when absent).</summary>
    public static IEnumerable<JsonElement> Items(this JsonElement element, string name) =>
        element.Member(name) is { ValueKind: JsonValueKind.Array } value ? value.EnumerateArray() : [];

    /// <summary>Any value as plain text: strings as they are, timestamps in UTC, numbers invariant, arrays and objects compact.</summary>
    public static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => TimeOrString(value.GetString()!),
        JsonValueKind.Number => Number(value.GetDouble()),
        JsonValueKind.True => "yes",
        JsonValueKind.False => "no",
        JsonValueKind.Array => value.GetArrayLength() == 0 ? "-" : string.Join(", ", value.EnumerateArray().Select(Text)),
        JsonValueKind.Object => "{" + string.Join(", ", value.EnumerateObject().Select(p => $"{p.Name}: {Text(p.Value)}")) + "}",
        _ => "-",
    };

    /// <summary><see cref="Text"/>, escaped for Spectre markup and stripped of control characters.</summary>
    public static string Escaped(JsonElement value) => Markup.Escape(AdminHttpClient.Printable(Text(value)));

    /// <summary>A string escaped for markup, "-" when null.</summary>
    public static string Escaped(string? value) => value is null ? "-" : Markup.Escape(AdminHttpClient.Printable(value));

    /// <summary>A number as the tables show it: integers whole, others to three decimals.</summary>
    public static string Number(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15
            ? value.ToString("#,0", CultureInfo.InvariantCulture)
            : value.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>An ISO-8601 timestamp as "yyyy-MM-dd HH:mm:ssZ" (UTC); other strings unchanged.</summary>
    public static string TimeOrString(string text) =>
        text.Length >= 19 && text[4] == '-' && text[10] == 'T'
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : text;

    /// <summary>"totalRequests" as "total requests".</summary>
    public static string Humanize(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        foreach (var c in name)
        {
            if (char.IsUpper(c) && builder.Length > 0)
            {
                builder.Append(' ').Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
