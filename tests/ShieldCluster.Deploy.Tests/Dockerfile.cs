using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ShieldCluster.Deploy.Tests;

/// <summary>A Dockerfile instruction: keyword (upper case), flags (<c>--from=build</c>) and arguments.</summary>
internal sealed record Instruction(string Keyword, IReadOnlyDictionary<string, string> Flags, string Arguments, int Line)
{
    /// <summary>The arguments as words: a JSON array (exec form) or whitespace-separated words.</summary>
    public IReadOnlyList<string> Words =>
        Arguments.TrimStart().StartsWith('[')
            ? JsonSerializer.Deserialize<string[]>(Arguments)!
            : Arguments.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>One stage: <c>FROM image [AS name]</c> and its instructions.</summary>
internal sealed record Stage(string Image, string? Name, IReadOnlyList<Instruction> Instructions)
{
    public IEnumerable<Instruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

    /// <summary>ENV of this stage: <c>ENV a=b c="d e"</c> and the legacy <c>ENV a b</c>.</summary>
    public IReadOnlyDictionary<string, string> Environment
    {
        get
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var instruction in All("ENV"))
            {
                var text = instruction.Arguments.Trim();
                if (!Regex.IsMatch(text, @"^[A-Za-z_][A-Za-z0-9_]*="))
                {
                    var split = text.IndexOfAny([' ', '\t']);
                    env[text[..split]] = text[(split + 1)..].Trim();
                    continue;
                }

                foreach (Match pair in Regex.Matches(text, @"([A-Za-z_][A-Za-z0-9_]*)=(""(?:[^""\\]|\\.)*""|'[^']*'|\S*)"))
                {
                    var value = pair.Groups[2].Value;
                    env[pair.Groups[1].Value] = value.Length >= 2 && (value[0] == '"' || value[0] == '\'') ? value[1..^1] : value;
                }
            }

            return env;
        }
    }
}

internal static class Dockerfile
{
    /// <summary>Parses a Dockerfile: comments and parser directives dropped, backslash continuations joined.</summary>
    public static IReadOnlyList<Stage> Parse(string text)
    {
        var instructions = new List<Instruction>();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var current = new StringBuilder();
        var start = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith('#') || (current.Length > 0 && trimmed.Length == 0))
            {
                continue; // comments, and blank lines inside a continued instruction
            }

            if (current.Length == 0)
            {
                if (trimmed.Length == 0)
                {
                    continue;
                }

                start = i + 1;
            }

            var continued = line.TrimEnd().EndsWith('\\');
            current.Append(continued ? line.TrimEnd()[..^1] : line).Append(' ');
            if (!continued)
            {
                instructions.Add(ToInstruction(current.ToString().Trim(), start));
                current.Clear();
            }
        }

        if (current.Length > 0)
        {
            throw new FormatException($"line {start}: the file ends inside a continued instruction");
        }

        var stages = new List<Stage>();
        List<Instruction>? body = null;
        foreach (var instruction in instructions)
        {
            if (instruction.Keyword == "FROM")
            {
                var words = instruction.Words;
                var name = words.Count == 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
                if (words.Count != 1 && name is null)
                {
                    throw new FormatException($"line {instruction.Line}: FROM {instruction.Arguments}");
                }

                body = [];
                stages.Add(new Stage(words[0], name, body));
            }
            else
            {
                (body ?? throw new FormatException($"line {instruction.Line}: {instruction.Keyword} before the first FROM")).Add(instruction);
            }
        }

        return stages;
    }

    private static Instruction ToInstruction(string text, int line)
    {
        var split = text.IndexOfAny([' ', '\t']);
        var keyword = (split < 0 ? text : text[..split]).ToUpperInvariant();
        var rest = split < 0 ? "" : text[(split + 1)..].TrimStart();
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        while (rest.StartsWith("--", StringComparison.Ordinal))
        {
            var end = rest.IndexOfAny([' ', '\t']);
            var flag = end < 0 ? rest : rest[..end];
            var equals = flag.IndexOf('=', StringComparison.Ordinal);
            flags[equals < 0 ? flag[2..] : flag[2..equals]] = equals < 0 ? "" : flag[(equals + 1)..];
            rest = end < 0 ? "" : rest[(end + 1)..].TrimStart();
        }

        return new Instruction(keyword, flags, rest, line);
    }
}

/// <summary>The patterns of a .dockerignore, matched the way Docker matches them (a match excludes everything below).</summary>
internal sealed class DockerIgnore(IEnumerable<string> patterns)
{
    private readonly IReadOnlyList<(bool Negated, Regex Pattern)> _rules = patterns
        .Select(p => p.Trim())
        .Where(p => p.Length > 0 && !p.StartsWith('#'))
        .Select(p => (p.StartsWith('!'), ToRegex(p.TrimStart('!').Trim('/'))))
        .ToList();

    public bool Excludes(string path)
    {
        path = path.Replace('\\', '/').Trim('/');
        var excluded = false;
        foreach (var (negated, pattern) in _rules)
        {
            // A pattern matches the path or a directory above it.
            var parts = path.Split('/');
            for (var n = 1; n <= parts.Length; n++)
            {
                if (pattern.IsMatch(string.Join('/', parts.Take(n))))
                {
                    excluded = !negated;
                    break;
                }
            }
        }

        return excluded;
    }

    private static Regex ToRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                // `**/` is any number of directories (none included), `**` anything.
                var directories = i + 2 < pattern.Length && pattern[i + 2] == '/';
                regex.Append(directories ? "(.*/)?" : ".*");
                i += directories ? 2 : 1;
            }
            else
            {
                regex.Append(c switch { '*' => "[^/]*", '?' => "[^/]", _ => Regex.Escape(c.ToString()) });
            }
        }

        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
