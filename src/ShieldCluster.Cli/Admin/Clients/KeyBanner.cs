namespace ShieldCluster.Cli.Admin.Clients;

/// <summary>
/// Shows a new API key once and clearly: the explanation on stderr, the key alone on stdout (so
/// <c>KEY=$(shield clients create acme)</c> captures exactly the key).
/// </summary>
internal static class KeyBanner
{
    public static void Write(CliConsole io, string before, string key, string after)
    {
        io.Error.WriteLine(AdminHttpClient.Printable(before));
        io.Error.WriteLine();
        io.Error.Flush();
        io.Out.WriteLine(AdminHttpClient.Printable(key));
        io.Out.Flush();
        io.Error.WriteLine();
        io.Error.WriteLine(AdminHttpClient.Printable(after));
    }
}
