using Microsoft.Extensions.Options;

namespace ShieldCluster.Server.Hosting;

/// <summary>Recognises configuration failures at start-up so they end the process with a plain message, not a stack trace.</summary>
public static class StartupFailure
{
    /// <summary>Whether <paramref name="ex"/> (or what it wraps) is a configuration problem.</summary>
    public static bool IsConfiguration(Exception ex) => Find(ex) is not null;

    /// <summary>The message naming the offending key(s).</summary>
    public static string Describe(Exception ex) => Find(ex) switch
    {
        OptionsValidationException validation => string.Join("; ", validation.Failures),
        { } other => other.Message,
        null => ex.Message,
    };

    private static Exception? Find(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is OptionsValidationException || (ex is InvalidOperationException && ex.Message.Contains("Shield:", StringComparison.Ordinal)))
            {
                return ex;
            }

            if (ex is AggregateException { InnerExceptions.Count: 1 } aggregate)
            {
                return Find(aggregate.InnerExceptions[0]);
            }
        }

        return null;
    }
}
