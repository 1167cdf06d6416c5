using ShieldCluster.Testing;

namespace ShieldCluster.Deploy.Tests;

/// <summary>Every kustomization renders, and every object it renders is valid Kubernetes.</summary>
public class ManifestValidationTests
{
    [Fact]
    public void The_cpu_and_gpu_overlays_are_among_the_kustomizations_checked()
    {
        Assert.Contains("overlays/cpu", Manifests.Kustomizations);
        Assert.Contains("overlays/gpu", Manifests.Kustomizations);
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void Renders_and_every_object_validates_against_the_Kubernetes_schemas(string kustomization)
    {
        var rendering = Manifests.Render(kustomization); // typed, strict: unknown fields throw
        var result = Tools.Validate(rendering.Yaml);
        Assert.True(result.ExitCode == 0, $"{kustomization}: {result}");
        Assert.Contains($"{rendering.Objects.Count} object(s) valid", result.Stdout, StringComparison.Ordinal);
        foreach (var kind in new[] { "Namespace", "ServiceAccount", "Role", "RoleBinding", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "StatefulSet", "Secret" })
        {
            Assert.Contains(rendering.Objects, o => o.Kind == kind);
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void Every_namespaced_object_is_in_the_shieldcluster_namespace(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        Assert.Contains(rendering.Objects, o => o.Kind == "Namespace" && o.Metadata.Name == "shieldcluster");
        foreach (var o in rendering.Objects.Where(o => o.Kind != "Namespace"))
        {
            Assert.True(o.Metadata.NamespaceProperty == "shieldcluster", $"{o.Kind}/{o.Metadata.Name} is in namespace '{o.Metadata.NamespaceProperty}'");
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void No_container_sets_an_environment_variable_twice(string kustomization)
    {
        foreach (var workload in Manifests.Render(kustomization).Workloads)
        {
            foreach (var container in workload.Template.Spec.Containers)
            {
                var duplicates = (container.Env ?? []).GroupBy(e => e.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
                Assert.True(duplicates.Count == 0, $"{workload.Name}/{container.Name} sets {string.Join(", ", duplicates)} more than once");
            }
        }
    }

    [Fact]
    public void An_unbroken_copy_of_the_base_in_a_temporary_directory_passes()
    {
        using var copy = new BaseCopy();
        Assert.Empty(copy.Problems());
    }

    /// <summary>
    /// The checks themselves: a copy of the base with one deliberate mistake in its Deployment must
    /// fail, with a message naming the mistake.
    /// </summary>
    [Theory]
    [InlineData("containerPort: 8080", "containerPort: eighty", "containerPort must be integer")]
    [InlineData("protocol: TCP", "protocol: TPC", "protocol must be equal to one of the allowed values")]
    [InlineData("kind: Deployment", "kind: Deploymnet", "no schema for apiVersion \"apps/v1\" kind \"Deploymnet\"")]
    [InlineData("  selector:\n    matchLabels:", "  selectr:\n    matchLabels:", "must have required property selector")]
    [InlineData("path: /v2/health/ready", "pathh: /v2/health/ready", "Property 'pathh' not found")]
    [InlineData("maxSurge: 1", "maxSurge: [1]", "maxSurge")]
    [InlineData("      - name: server\n", "      - tty: false\n", "must have required property name")]
    public void A_broken_manifest_fails_validation(string find, string replace, string expected)
    {
        using var copy = new BaseCopy();
        copy.Edit("deployment.yaml", find, replace);
        var problems = copy.Problems();
        Assert.True(problems.Any(p => p.Contains(expected, StringComparison.Ordinal)), $"expected a problem with '{expected}', got:\n{string.Join('\n', problems)}");
    }

    [Fact]
    public void Two_objects_with_the_same_kind_namespace_and_name_fail_validation()
    {
        var secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: n\nstringData:\n  a: b\n";
        var result = Tools.Validate(secret + "---\n" + secret);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("duplicate", result.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// kustomize 5 wraps long Secret values over several lines, which the API server's base64
    /// decoder accepts; the validator must too, and still refuse what is not base64.
    /// </summary>
    [Fact]
    public void Secret_data_may_be_wrapped_base64_but_must_be_base64()
    {
        const string wrapped = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: |\n    MmM3MGUx\n    MmM3MGUx\n";
        Assert.Equal(0, Tools.Validate(wrapped).ExitCode);
        var broken = Tools.Validate(wrapped + "  b: not base64!\n");
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("/data/b must match format \"byte\"", broken.Stdout, StringComparison.Ordinal);
    }

    /// <summary>deploy/k8s/base copied to a temporary directory, to break on purpose.</summary>
    private sealed class BaseCopy : IDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("shield-k8s-").FullName;

        public BaseCopy()
        {
            foreach (var file in Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "deploy", "k8s", "base")))
            {
                File.Copy(file, Path.Combine(_directory, Path.GetFileName(file)));
            }
        }

        public void Edit(string file, string find, string replace)
        {
            var path = Path.Combine(_directory, file);
            var text = File.ReadAllText(path);
            var at = text.IndexOf(find, StringComparison.Ordinal);
            Assert.True(at >= 0, $"'{find}' is not in {file}");
            File.WriteAllText(path, string.Concat(text.AsSpan(0, at), replace, text.AsSpan(at + find.Length)));
        }

        /// <summary>What rendering, the schema validator and the strict typed load report.</summary>
        public List<string> Problems()
        {
            string yaml;
            try
            {
                yaml = Tools.Kustomize(_directory);
            }
            catch (InvalidOperationException ex)
            {
                return [ex.Message];
            }

            var problems = new List<string>();
            var result = Tools.Validate(yaml);
            if (result.ExitCode != 0)
            {
                problems.AddRange(result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            }

            try
            {
                _ = Manifests.LoadStrict(yaml);
            }
            catch (Exception ex)
            {
                problems.Add((ex.InnerException ?? ex).Message);
            }

            return problems;
        }

        public void Dispose() => Directory.Delete(_directory, recursive: true);
    }
}
