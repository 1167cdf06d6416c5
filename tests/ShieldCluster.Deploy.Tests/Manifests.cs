using System.Collections.Concurrent;
using System.Text;
using k8s;
using k8s.Models;

namespace ShieldCluster.Deploy.Tests;

/// <summary>
/// One kustomization of deploy/k8s rendered by kubectl kustomize and loaded into KubernetesClient's
/// typed models in strict mode: a field those models do not know (a typo, a field of another API
/// version) fails the load.
/// </summary>
internal sealed class Rendering
{
    public Rendering(string name, string yaml)
    {
        Name = name;
        Yaml = yaml;
        Objects = Manifests.LoadStrict(yaml);
    }

    /// <summary>The kustomization's directory below deploy/k8s, e.g. <c>overlays/cpu</c>.</summary>
    public string Name { get; }

    public string Yaml { get; }

    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Objects { get; }

    public IEnumerable<T> All<T>() => Objects.OfType<T>();

    public T Single<T>(string name)
        where T : IKubernetesObject<V1ObjectMeta> => All<T>().Single(o => o.Metadata.Name == name);

    /// <summary>The silos' Deployment.</summary>
    public V1Deployment Silos => Single<V1Deployment>("shieldcluster");

    /// <summary>The server container of the silos' pods.</summary>
    public V1Container Server => Silos.Spec.Template.Spec.Containers.Single(c => c.Name == "server");

    /// <summary>Every pod template: Deployments and StatefulSets.</summary>
    public IEnumerable<Workload> Workloads =>
        All<V1Deployment>().Select(d => new Workload("Deployment", d.Metadata.Name, d.Metadata.NamespaceProperty, d.Spec.Selector, d.Spec.Template))
            .Concat(All<V1StatefulSet>().Select(s => new Workload("StatefulSet", s.Metadata.Name, s.Metadata.NamespaceProperty, s.Spec.Selector, s.Spec.Template)));

    /// <summary>The environment of the server container as the kubelet sets it (references resolved).</summary>
    public IReadOnlyDictionary<string, string> ServerEnvironment => PodEnvironment.Resolve(this, Workloads.Single(w => w.Name == "shieldcluster"), Server);

    public override string ToString() => Name;
}

internal sealed record Workload(string Kind, string Name, string Namespace, V1LabelSelector Selector, V1PodTemplateSpec Template)
{
    public IDictionary<string, string> PodLabels => Template.Metadata?.Labels ?? new Dictionary<string, string>();
}

internal static class Manifests
{
    private static readonly ConcurrentDictionary<string, Lazy<Rendering>> Cache = new(StringComparer.Ordinal);

    /// <summary>Every kustomization an operator applies: the overlays and the examples.</summary>
    public static IReadOnlyList<string> Kustomizations { get; } =
        new[] { "overlays", "examples" }
            .SelectMany(parent => Directory.GetDirectories(Path.Combine(Tools.K8sDirectory, parent)))
            .Where(dir => File.Exists(Path.Combine(dir, "kustomization.yaml")))
            .Select(dir => Path.GetRelativePath(Tools.K8sDirectory, dir).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToArray();

    public static TheoryData<string> KustomizationData
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var name in Kustomizations)
            {
                data.Add(name);
            }

            return data;
        }
    }

    public static TheoryData<string> OverlayData => ["overlays/cpu", "overlays/gpu"];

    /// <summary>Renders deploy/k8s/<paramref name="name"/> once per test run.</summary>
    public static Rendering Render(string name) =>
        Cache.GetOrAdd(name, n => new Lazy<Rendering>(() => new Rendering(n, Tools.Kustomize(Path.Combine(Tools.K8sDirectory, n))))).Value;

    /// <summary>Loads every object of the YAML into KubernetesClient's typed models, unknown fields failing.</summary>
    public static IReadOnlyList<IKubernetesObject<V1ObjectMeta>> LoadStrict(string yaml) =>
        KubernetesYaml.LoadAllFromString(yaml, typeMap: null, strict: true)
            .Select(o => o as IKubernetesObject<V1ObjectMeta> ?? throw new InvalidOperationException($"not a Kubernetes object with metadata: {o?.GetType().Name}"))
            .ToList();

    public static bool Matches(V1LabelSelector? selector, IDictionary<string, string>? labels)
    {
        labels ??= new Dictionary<string, string>();
        if (selector is null)
        {
            return false;
        }

        foreach (var (key, value) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        foreach (var expression in selector.MatchExpressions ?? [])
        {
            var has = labels.TryGetValue(expression.Key, out var actual);
            var values = expression.Values ?? [];
            var ok = expression.OperatorProperty switch
            {
                "In" => has && values.Contains(actual!),
                "NotIn" => !has || !values.Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => throw new InvalidOperationException($"unknown selector operator {expression.OperatorProperty}"),
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    public static bool Matches(IDictionary<string, string>? selector, IDictionary<string, string>? labels) =>
        selector is { Count: > 0 } && Matches(new V1LabelSelector { MatchLabels = selector }, labels);
}

/// <summary>Resolves a container's environment the way the kubelet does, from the rendered objects.</summary>
internal static class PodEnvironment
{
    public const string PodIp = "10.1.2.3";

    public static IReadOnlyDictionary<string, string> Resolve(Rendering rendering, Workload workload, V1Container container)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in container.EnvFrom ?? [])
        {
            IDictionary<string, string> values = source.ConfigMapRef is { } cm
                ? ConfigMap(rendering, workload.Namespace, cm.Name, cm.Optional)
                : source.SecretRef is { } secret
                    ? Secret(rendering, workload.Namespace, secret.Name, secret.Optional)
                    : throw new InvalidOperationException($"{container.Name}: envFrom without a source");
            foreach (var (key, value) in values)
            {
                env[(source.Prefix ?? "") + key] = value;
            }
        }

        foreach (var variable in container.Env ?? [])
        {
            env[variable.Name] = variable.Value ?? ValueFrom(rendering, workload, variable);
        }

        return env;
    }

    private static string ValueFrom(Rendering rendering, Workload workload, V1EnvVar variable)
    {
        var from = variable.ValueFrom ?? throw new InvalidOperationException($"{variable.Name}: neither value nor valueFrom");
        if (from.FieldRef is { } field)
        {
            return Field(workload, field.FieldPath) ?? throw new InvalidOperationException($"{variable.Name}: fieldRef {field.FieldPath} names nothing on the pod");
        }

        if (from.SecretKeyRef is { } secretKey)
        {
            var secret = Secret(rendering, workload.Namespace, secretKey.Name, secretKey.Optional);
            return secret.TryGetValue(secretKey.Key, out var value)
                ? value
                : throw new InvalidOperationException($"{variable.Name}: Secret {secretKey.Name} has no key {secretKey.Key}");
        }

        if (from.ConfigMapKeyRef is { } configKey)
        {
            var map = ConfigMap(rendering, workload.Namespace, configKey.Name, configKey.Optional);
            return map.TryGetValue(configKey.Key, out var value)
                ? value
                : throw new InvalidOperationException($"{variable.Name}: ConfigMap {configKey.Name} has no key {configKey.Key}");
        }

        throw new InvalidOperationException($"{variable.Name}: unsupported valueFrom");
    }

    private static string? Field(Workload workload, string path)
    {
        var labels = workload.PodLabels;
        var annotations = workload.Template.Metadata?.Annotations ?? new Dictionary<string, string>();
        if (path.StartsWith("metadata.labels['", StringComparison.Ordinal) && path.EndsWith("']", StringComparison.Ordinal))
        {
            return labels.TryGetValue(path["metadata.labels['".Length..^2], out var label) ? label : null;
        }

        if (path.StartsWith("metadata.annotations['", StringComparison.Ordinal) && path.EndsWith("']", StringComparison.Ordinal))
        {
            return annotations.TryGetValue(path["metadata.annotations['".Length..^2], out var annotation) ? annotation : null;
        }

        return path switch
        {
            "metadata.name" => workload.Name + "-5d8f7c9b6-x2x4q",
            "metadata.namespace" => workload.Namespace,
            "metadata.uid" => "00000000-0000-0000-0000-000000000001",
            "spec.nodeName" => "node-1",
            "spec.serviceAccountName" => workload.Template.Spec.ServiceAccountName ?? "default",
            "status.podIP" or "status.podIPs" => PodIp,
            "status.hostIP" or "status.hostIPs" => "10.0.0.1",
            _ => null,
        };
    }

    private static Dictionary<string, string> Secret(Rendering rendering, string ns, string name, bool? optional)
    {
        var secret = rendering.All<V1Secret>().SingleOrDefault(s => s.Metadata.Name == name && s.Metadata.NamespaceProperty == ns);
        if (secret is null)
        {
            return optional == true ? new Dictionary<string, string>() : throw new InvalidOperationException($"no Secret {ns}/{name} in {rendering.Name}");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in secret.Data ?? new Dictionary<string, byte[]>())
        {
            values[key] = Encoding.UTF8.GetString(value);
        }

        foreach (var (key, value) in secret.StringData ?? new Dictionary<string, string>())
        {
            values[key] = value;
        }

        return values;
    }

    private static Dictionary<string, string> ConfigMap(Rendering rendering, string ns, string name, bool? optional)
    {
        var map = rendering.All<V1ConfigMap>().SingleOrDefault(s => s.Metadata.Name == name && s.Metadata.NamespaceProperty == ns);
        return map is null
            ? optional == true ? new Dictionary<string, string>() : throw new InvalidOperationException($"no ConfigMap {ns}/{name} in {rendering.Name}")
            : new Dictionary<string, string>(map.Data ?? new Dictionary<string, string>(), StringComparer.Ordinal);
    }
}
