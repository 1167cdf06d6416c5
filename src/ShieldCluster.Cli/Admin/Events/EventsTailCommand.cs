using System.Globalization;
using System.Text;

namespace ShieldCluster.Cli.Admin.Events;

/// <summary>
/// <c>shield events tail</c>: the audit trail of security decisions, oldest first
/// (GET /admin/events?since=&amp;client=&amp;limit=); with --follow, polls every second until Ctrl+C.
/// </summary>
internal sealed class EventsTailCommand(CliConsole console) : AdminCommand<EventsTailSettings>(console)
{
    /// <summary>The server's page size when --limit is not given.</summary>
    private const int ServerDefaultLimit = 100;

    /// <summary>How often --follow asks for new events.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    protected override async Task<int> RunAsync(AdminHttpClient http, EventsTailSettings settings, CancellationToken cancellationToken)
    {
        var since = settings.SinceTime?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        if (!settings.Follow)
        {
            var answer = await http.GetAsync(Query(settings, since), cancellationToken);
            using var document = answer.Parse();
            if (settings.Json)
            {
                WriteJson(answer.Body);
                return ExitCodes.Ok;
            }

            var events = document.RootElement.Items("events").ToList();
            if (events.Count == 0)
            {
                WriteMarkupLine("No security event" + (settings.Client is null ? "" : $" for {JsonView.Escaped(settings.Client)}") + (since is null ? "" : $" since {JsonView.Escaped(JsonView.TimeOrString(since))}") + ".");
            }
            else
            {
                Write(EventView.Table(events, "Security events", showClient: settings.Client is null));
            }

            return ExitCodes.Ok;
        }

        return await FollowAsync(http, settings, since, cancellationToken);
    }

    private async Task<int> FollowAsync(AdminHttpClient http, EventsTailSettings settings, string? since, CancellationToken cancellationToken)
    {
        var cursor = new EventCursor();
        var unreachable = false;
        try
        {
            while (true)
            {
                AdminAnswer answer;
                try
                {
                    answer = await http.GetAsync(Query(settings, cursor.Since ?? since), cancellationToken);
                }
                catch (AdminApiException e) when (e.ExitCode == ExitCodes.ServerUnavailable)
                {
                    // A restart or a blip should not end a watch: say so once and keep polling.
                    if (!unreachable)
                    {
                        Io.Error.WriteLine($"shield: {e.Message}; retrying every second");
                        unreachable = true;
                    }

                    await Task.Delay(PollInterval, cancellationToken);
                    continue;
                }

                if (unreachable)
                {
                    Io.Error.WriteLine("shield: the server answers again");
                    unreachable = false;
                }

                int count;
                List<System.Text.Json.JsonElement> fresh;
                using (var document = answer.Parse())
                {
                    var events = document.RootElement.Items("events").ToList();
                    count = events.Count;
                    fresh = cursor.Advance(events);
                }

                foreach (var e in fresh)
                {
                    if (settings.Json)
                    {
                        Io.Out.WriteLine(e.GetRawText());
                    }
                    else
                    {
                        WriteMarkupLine(EventView.Line(e));
                    }
                }

                // A full page means more are waiting: ask again at once.
                if (fresh.Count == 0 || count < (settings.Limit ?? ServerDefaultLimit))
                {
                    await Task.Delay(PollInterval, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
    }

    private static string Query(EventsTailSettings settings, string? since)
    {
        var query = new StringBuilder("admin/events");
        var separator = '?';
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                query.Append(separator).Append(name).Append('=').Append(Uri.EscapeDataString(value));
                separator = '&';
            }
        }

        Add("since", since);
        Add("client", settings.Client);
        Add("limit", settings.Limit?.ToString(CultureInfo.InvariantCulture));
        return query.ToString();
    }
}
