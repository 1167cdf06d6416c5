namespace ShieldCluster.Cli;

/// <summary>
/// The tool's exit codes, one scheme for every command. Scripts can rely on them: they are listed in
/// the help of every admin command (<see cref="Table"/>).
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked (redteam: the evaluation ran completely).</summary>
    public const int Ok = 0;

    /// <summary>
    /// It did not complete: redteam ran but a target was unreachable or an attack errored; an admin
    /// command was declined at its confirmation prompt; an unexpected error.
    /// </summary>
    public const int Incomplete = 1;

    /// <summary>The command line was wrong (unknown option, missing or invalid value); nothing was sent.</summary>
    public const int BadCommandLine = 2;

    /// <summary>The server answered 404: no such client (or no such route: an older server, or no admin configured).</summary>
    public const int NotFound = 3;

    /// <summary>The server answered 401 (missing or unknown admin key) or 403 (a viewer or a client key on a changing route).</summary>
    public const int AuthFailed = 4;

    /// <summary>The server answered 409 (e.g. the client exists) or another 4xx (e.g. 400: the server refused a value).</summary>
    public const int Rejected = 5;

    /// <summary>The server failed (5xx, or an answer that is not the expected JSON) or could not be reached (connection refused, DNS, timeout).</summary>
    public const int ServerUnavailable = 6;

    /// <summary>The codes and their meaning, as the help shows them.</summary>
    public static IReadOnlyList<(int Code, string Meaning)> Table { get; } =
    [
        (Ok, "ok"),
        (Incomplete, "not completed (a deletion declined at the prompt; redteam: a target unreachable or an attack errored)"),
        (BadCommandLine, "usage error: bad or missing arguments; nothing was sent"),
        (NotFound, "not found (404): no such client, or the server lacks the route"),
        (AuthFailed, "authentication or authorisation failed (401, 403)"),
        (Rejected, "conflict (409) or another 4xx refusal"),
        (ServerUnavailable, "server error (5xx) or unreachable (connection refused, DNS, timeout)"),
    ];
}
