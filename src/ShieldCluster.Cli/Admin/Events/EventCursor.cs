using System.Globalization;
using System.Text.Json;

namespace ShieldCluster.Cli.Admin.Events;

/// <summary>
/// Where <c>events tail --follow</c> stands: the last event time seen and the ids seen at that time,
/// so that polling again from that time (whether the server's <c>since</c> is inclusive or not)
/// prints every event once.
/// </summary>
internal sealed class EventCursor
{
    private readonly HashSet<string> _idsAtLast = new(StringComparer.Ordinal);
    private DateTimeOffset? _last;

    /// <summary>The <c>at</c> of the newest event seen, as the server wrote it; null before the first.</summary>
    public string? Since { get; private set; }

    /// <summary>The events of one answer (oldest first) not seen before; the cursor moves past them.</summary>
    public List<JsonElement> Advance(IEnumerable<JsonElement> events)
    {
        var fresh = new List<JsonElement>();
        foreach (var e in events)
        {
            var text = e.String("at");
            if (text is null || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                fresh.Add(e.Clone());
                continue;
            }

            var id = e.Member("id").ValueKind is JsonValueKind.Undefined ? e.GetRawText() : e.Member("id").GetRawText();
            if (_last is { } last && (at < last || (at == last && _idsAtLast.Contains(id))))
            {
                continue;
            }

            if (_last != at)
            {
                _last = at;
                Since = text;
                _idsAtLast.Clear();
            }

            _idsAtLast.Add(id);
            fresh.Add(e.Clone());
        }

        return fresh;
    }
}
