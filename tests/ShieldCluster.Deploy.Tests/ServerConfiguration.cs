using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using ShieldCluster.Server.Extensions;

namespace ShieldCluster.Deploy.Tests;

/// <summary>
/// The server's own configuration surface, read from its composition (the same
/// <c>AddShieldOptions().AddShieldOrleans().AddShieldInference().AddShieldHttp()</c> that Program.cs
/// runs): which options classes it binds, from which sections, and what a set of environment
/// variables binds to.
/// </summary>
internal sealed class ServerConfiguration
{
    private readonly IReadOnlyList<(Type Type, string Section)> _bound;

    private ServerConfiguration(IReadOnlyList<(Type Type, string Section)> bound) => _bound = bound;

    /// <summary>Options classes of ShieldCluster with the configuration sections they bind from.</summary>
    public IReadOnlyList<(Type Type, string Section)> Bound => _bound;

    public static ServerConfiguration Instance { get; } = Discover();

    /// <summary>Environment variable names as .NET configuration keys: <c>Shield__Http__X</c> is <c>Shield:Http:X</c>.</summary>
    public static string KeyOf(string environmentVariable) => environmentVariable.Replace("__", ":", StringComparison.Ordinal);

    /// <summary>
    /// Why <paramref name="key"/> = <paramref name="value"/> binds to nothing, or null when it binds:
    /// some options class bound from a section above the key has a public settable property at the
    /// key's path (walking nested classes, dictionaries and lists), and the real configuration binder,
    /// told to fail on keys it cannot place, binds the value into that class.
    /// </summary>
    public string? WhyUnbound(string key, string value)
    {
        var reasons = new List<string>();
        foreach (var (type, section) in _bound)
        {
            if (!key.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var path = key[(section.Length + 1)..].Split(':');
            if (PropertyPathProblem(type, path) is { } problem)
            {
                reasons.Add($"{type.Name} at {section}: {problem}");
                continue;
            }

            try
            {
                var configuration = new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build();
                configuration.GetSection(section).Bind(Activator.CreateInstance(type)!, o => o.ErrorOnUnknownConfiguration = true);
                return null;
            }
            catch (InvalidOperationException ex)
            {
                reasons.Add($"{type.Name} at {section}: {ex.Message}");
            }
        }

        return reasons.Count == 0 ? $"{key}: no options class binds a section above it" : $"{key}: {string.Join("; ", reasons)}";
    }

    /// <summary>
    /// The options of type <typeparamref name="T"/> as the server would bind them from these
    /// settings (configuration keys), validation left out.
    /// </summary>
    public static T Bind<T>(IReadOnlyDictionary<string, string> settings)
        where T : class
    {
        using var provider = Compose(settings, keepValidation: false);
        return provider.GetRequiredService<IOptions<T>>().Value;
    }

    /// <summary>Every failure the server's own option validation reports for these settings (empty: it would start).</summary>
    public IReadOnlyList<string> ValidationFailures(IReadOnlyDictionary<string, string> settings)
    {
        using var provider = Compose(settings, keepValidation: true);
        var failures = new List<string>();
        foreach (var type in _bound.Select(b => b.Type).Distinct())
        {
            try
            {
                _ = Value(provider, type);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is OptionsValidationException validation)
            {
                failures.AddRange(validation.Failures);
            }
        }

        return failures;
    }

    private static object Value(IServiceProvider provider, Type type)
    {
        var options = typeof(IOptions<>).MakeGenericType(type);
        return options.GetProperty(nameof(IOptions<object>.Value))!.GetValue(provider.GetRequiredService(options))!;
    }

    private static ServiceProvider Compose(IReadOnlyDictionary<string, string> settings, bool keepValidation, IConfiguration? replacement = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        builder.AddShieldOptions().AddShieldOrleans().AddShieldInference().AddShieldHttp();
        if (!keepValidation)
        {
            foreach (var descriptor in builder.Services.Where(d => d.ServiceType.IsGenericType && d.ServiceType.GetGenericTypeDefinition() == typeof(IValidateOptions<>)).ToList())
            {
                builder.Services.Remove(descriptor);
            }
        }

        if (replacement is not null)
        {
            builder.Services.AddSingleton(replacement);
        }

        return builder.Services.BuildServiceProvider();
    }

    private static ServerConfiguration Discover()
    {
        // Both modes of the composition: the embedded default, and Redis on Kubernetes (which
        // registers the Redis providers and Orleans' Kubernetes hosting).
        var bound = new List<(Type, string)>();
        foreach (var mode in new[]
        {
            new Dictionary<string, string>(),
            new Dictionary<string, string> { ["Shield:Redis"] = "redis:6379", ["Shield:Kubernetes"] = "true" },
        })
        {
            bound.AddRange(Discover(mode));
        }

        return new ServerConfiguration(bound.Distinct().ToList());
    }

    private static List<(Type, string)> Discover(Dictionary<string, string> settings)
    {
        // The options classes: every ShieldCluster type the composition binds to configuration
        // (BindConfiguration registers a change-token source per class).
        var probe = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        probe.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        probe.AddShieldOptions().AddShieldOrleans().AddShieldInference().AddShieldHttp();
        var types = probe.Services
            .Where(d => d.ServiceType.IsGenericType && d.ServiceType.GetGenericTypeDefinition() == typeof(IOptionsChangeTokenSource<>))
            .Select(d => d.ServiceType.GetGenericArguments()[0])
            .Where(t => t.Assembly.GetName().Name!.StartsWith("ShieldCluster.", StringComparison.Ordinal))
            .Distinct()
            .ToList();

        // Their sections: the sections each class's configuration asks for when it is built.
        var recorder = new RecordingConfiguration(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build());
        using var provider = Compose(settings, keepValidation: false, recorder);
        var bound = new List<(Type, string)>();
        foreach (var type in types)
        {
            recorder.Requested.Clear();
            _ = Value(provider, type);
            bound.AddRange(recorder.Requested.Distinct(StringComparer.OrdinalIgnoreCase).Select(section => (type, section)));
        }

        return bound;
    }

    private static string? PropertyPathProblem(Type type, string[] path)
    {
        var current = type;
        for (var i = 0; i < path.Length; i++)
        {
            var segment = path[i];
            var last = i == path.Length - 1;
            if (Dictionary(current) is { } valueType)
            {
                current = valueType;
            }
            else if (Element(current) is { } elementType)
            {
                if (!int.TryParse(segment, out _))
                {
                    return $"'{segment}' is not a list index of {current.Name}";
                }

                current = elementType;
            }
            else
            {
                var property = current.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
                if (property is null)
                {
                    return $"{current.Name} has no public property '{segment}'";
                }

                if (last && property.SetMethod is not { IsPublic: true })
                {
                    return $"{current.Name}.{property.Name} has no public setter";
                }

                current = property.PropertyType;
            }

            if (last && !IsScalar(current))
            {
                return $"'{string.Join(':', path)}' ends at {current.Name}, not at a value";
            }
        }

        return null;
    }

    private static bool IsScalar(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(TimeSpan) || t == typeof(DateTimeOffset)
            || t == typeof(DateTime) || t == typeof(Guid) || t == typeof(Uri);
    }

    private static Type? Dictionary(Type type)
    {
        var dictionary = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IDictionary<,>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        return dictionary?.GetGenericArguments() is [var key, var value] && key == typeof(string) ? value : null;
    }

    private static Type? Element(Type type)
    {
        if (type == typeof(string))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        var enumerable = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    /// <summary>A configuration that records the sections asked of it.</summary>
    private sealed class RecordingConfiguration(IConfiguration inner) : IConfiguration
    {
        public List<string> Requested { get; } = [];

        public string? this[string key]
        {
            get => inner[key];
            set => inner[key] = value;
        }

        public IEnumerable<IConfigurationSection> GetChildren() => inner.GetChildren();

        public IChangeToken GetReloadToken() => inner.GetReloadToken();

        public IConfigurationSection GetSection(string key)
        {
            Requested.Add(key);
            return inner.GetSection(key);
        }
    }
}
