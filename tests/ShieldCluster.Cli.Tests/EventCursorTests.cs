using System.Text.Json;
using ShieldCluster.Cli.Admin.Events;

namespace ShieldCluster.Cli.Tests;

/// <summary>The --follow cursor: every event printed once, whether the server's <c>since</c> is inclusive or not.</summary>
public class EventCursorTests
{
    [Fact]
    public void Advance_InclusiveSinceRepeatsTheBoundary_EachEventOnce()
    {
        var cursor = new EventCursor();

        var first = cursor.Advance(Events(("1", "2025-06-01T10:00:00Z"), ("2", "2025-06-01T10:00:01Z")));
        var second = cursor.Advance(Events(("2", "2025-06-01T10:00:01Z"), ("3", "2025-06-01T10:00:01Z"), ("4", "2025-06-01T10:00:02Z")));
        var third = cursor.Advance(Events(("4", "2025-06-01T10:00:02Z")));

        Assert.Equal(["1", "2"], Ids(first));
        Assert.Equal(["3", "4"], Ids(second));
        Assert.Empty(third);
        Assert.Equal("2025-06-01T10:00:02Z", cursor.Since);
    }

    [Fact]
    public void Advance_SameInstantWrittenDifferently_IsTheSameTime()
    {
        var cursor = new EventCursor();

        cursor.Advance(Events(("a", "2025-06-01T12:00:00+02:00")));
        var again = cursor.Advance(Events(("a", "2025-06-01T10:00:00Z"), ("b", "2025-06-01T10:00:00.5Z")));

        Assert.Equal(["b"], Ids(again));
    }

    [Fact]
    public void Advance_Empty_KeepsNoCursor()
    {
        var cursor = new EventCursor();

        Assert.Empty(cursor.Advance([]));
        Assert.Null(cursor.Since);
    }

    private static List<JsonElement> Events(params (string Id, string At)[] events) =>
        [.. events.Select(e => JsonDocument.Parse(JsonSerializer.Serialize(new { id = e.Id, at = e.At, clientId = "c", kind = "block" })).RootElement)];

    private static List<string?> Ids(List<JsonElement> events) => [.. events.Select(e => e.GetProperty("id").GetString())];
}
