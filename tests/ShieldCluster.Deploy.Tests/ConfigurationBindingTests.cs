using ShieldCluster.Grains.Options;
using ShieldCluster.Inference;
using ShieldCluster.Server.Options;
using ShieldCluster.Testing;

namespace ShieldCluster.Deploy.Tests;

/// <summary>
/// Every <c>Shield__*</c> variable the manifests and images set binds to a real option of the
/// server, through its own composition and the real configuration binder.
/// </summary>
public class ConfigurationBindingTests
{
    /// <summary>Operator-provided secrets that the server accepts (what README's recipe produces).</summary>
    internal static readonly IReadOnlyDictionary<string, string> RealSecrets = new Dictionary<string, string>
    {
        ["redis"] = "redis:6379",
        ["detection-salt"] = "9c1d5e3f7a2b4c6d8e0f1a3b5c7d9e1f",
        ["admin-ops-key-sha256"] = "2c70e12b7a0646f92279f427c7b38e7334d8e5389cff167a1dc30e73f826b683",
    };

    /// <summary>The server container's Shield variables as configuration keys and values.</summary>
    internal static Dictionary<string, string> ShieldSettings(IReadOnlyDictionary<string, string> environment) =>
        environment.Where(e => e.Key.StartsWith("Shield__", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(e => ServerConfiguration.KeyOf(e.Key), e => e.Value, StringComparer.OrdinalIgnoreCase);

    [Fact]
    public void The_server_binds_its_options_classes_from_their_sections()
    {
        var bound = ServerConfiguration.Instance.Bound;
        Assert.Contains((typeof(ShieldOptions), "Shield"), bound);
        Assert.Contains((typeof(IdentityOptions), "Shield"), bound);
        Assert.Contains((typeof(HttpOptions), "Shield:Http"), bound);
        Assert.Contains((typeof(InferenceOptions), "Shield:Inference"), bound);
        Assert.Contains((typeof(ProtectionOptions), "Shield:Protection"), bound);
        Assert.Contains((typeof(SecretOptions), "Shield:Detection"), bound);
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void Every_Shield_variable_of_the_server_container_binds_to_a_real_option(string kustomization)
    {
        var environment = Manifests.Render(kustomization).ServerEnvironment;
        var shield = environment.Where(e => e.Key.StartsWith("Shield__", StringComparison.OrdinalIgnoreCase)).ToList();
        foreach (var expected in new[]
        {
            "Shield__Kubernetes", "Shield__Redis", "Shield__Detection__Salt", "Shield__ClusterId", "Shield__ServiceId", "Shield__SiloPort",
            "Shield__GatewayPort", "Shield__Inference__ModelRepository", "Shield__Inference__Device", "Shield__Admins__ops__ApiKeySha256", "Shield__Admins__ops__Role",
        })
        {
            Assert.Contains(shield, e => e.Key == expected);
        }

        var unbound = shield.Select(e => ServerConfiguration.Instance.WhyUnbound(ServerConfiguration.KeyOf(e.Key), e.Value)).OfType<string>().ToList();
        Assert.True(unbound.Count == 0, string.Join('\n', unbound));
    }

    /// <summary>The check itself: variables that bind to nothing, or cannot convert, are caught.</summary>
    [Theory]
    [InlineData("Shield__Admins__ops__KeyHash", "abc")]
    [InlineData("Shield__Inference__Devise", "cuda")]
    [InlineData("Shield__Inference__Device", "tpu")]
    [InlineData("Shield__SiloPort", "eleven")]
    [InlineData("Shield__Http__Bogus", "1")]
    [InlineData("Shield__Bogus", "1")]
    [InlineData("Shield__Admins__ops", "abc")]
    [InlineData("Shield__Clients__a__Models__first", "m")]
    [InlineData("Shield__Admins__ops__ParsedRole", "Security")]
    [InlineData("Other__Redis", "redis:6379")]
    public void A_variable_that_binds_to_nothing_is_reported(string variable, string value) =>
        Assert.NotNull(ServerConfiguration.Instance.WhyUnbound(ServerConfiguration.KeyOf(variable), value));

    [Theory]
    [InlineData("Shield__Kubernetes", "true")]
    [InlineData("Shield__Redis", "redis:6379,password=x")]
    [InlineData("shield__inference__device", "cuda")]
    [InlineData("Shield__Clients__a__Models__0", "fashion-mnist")]
    [InlineData("Shield__Plans__gold__Risk__BlockAt", "0.9")]
    [InlineData("Shield__Http__KeyCacheDuration", "00:00:05")]
    [InlineData("Shield__Detection__Salt", "0123456789abcdef")]
    public void A_variable_that_binds_is_accepted(string variable, string value) =>
        Assert.Null(ServerConfiguration.Instance.WhyUnbound(ServerConfiguration.KeyOf(variable), value));

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void With_real_secrets_the_rendered_configuration_passes_the_servers_validation(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        var settings = ShieldSettings(rendering.ServerEnvironment);
        var server = rendering.Server;
        foreach (var variable in server.Env.Where(e => e.ValueFrom?.SecretKeyRef is not null))
        {
            settings[ServerConfiguration.KeyOf(variable.Name)] = RealSecrets[variable.ValueFrom.SecretKeyRef.Key];
        }

        var failures = ServerConfiguration.Instance.ValidationFailures(settings);
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    /// <summary>The placeholders in the base can never serve: the server refuses to start with them.</summary>
    [Theory]
    [MemberData(nameof(Manifests.OverlayData), MemberType = typeof(Manifests))]
    public void The_placeholder_secrets_are_refused_by_the_servers_validation(string kustomization)
    {
        var environment = Manifests.Render(kustomization).ServerEnvironment;
        Assert.Equal("REPLACE-ME", environment["Shield__Detection__Salt"]);
        Assert.Equal("REPLACE-ME", environment["Shield__Admins__ops__ApiKeySha256"]);
        var failures = ServerConfiguration.Instance.ValidationFailures(ShieldSettings(environment));
        Assert.Contains(failures, f => f.Contains("Shield:Detection:Salt", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Shield:Admins:ops", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("overlays/cpu", InferenceDevice.Cpu)]
    [InlineData("overlays/gpu", InferenceDevice.Cuda)]
    public void The_overlay_selects_its_inference_device(string kustomization, InferenceDevice device)
    {
        var settings = ShieldSettings(Manifests.Render(kustomization).ServerEnvironment);
        var inference = ServerConfiguration.Bind<InferenceOptions>(settings);
        Assert.Equal(device, inference.Device);
        Assert.Equal("/models", inference.ModelRepository);
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void Orleans_hosting_and_the_server_agree_on_the_cluster_and_service_ids(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        var environment = rendering.ServerEnvironment;
        var labels = rendering.Silos.Spec.Template.Metadata.Labels;
        var shield = ServerConfiguration.Bind<ShieldOptions>(ShieldSettings(environment));
        Assert.True(shield.Kubernetes);
        Assert.Equal("shield", labels["orleans/serviceId"]);
        Assert.Equal("shield", labels["orleans/clusterId"]);
        Assert.Equal(labels["orleans/serviceId"], environment["ORLEANS_SERVICE_ID"]);
        Assert.Equal(labels["orleans/clusterId"], environment["ORLEANS_CLUSTER_ID"]);
        Assert.Equal(labels["orleans/serviceId"], shield.ServiceId);
        Assert.Equal(labels["orleans/clusterId"], shield.ClusterId);
        Assert.Equal("shieldcluster", environment["POD_NAMESPACE"]);
        Assert.Equal(PodEnvironment.PodIp, environment["POD_IP"]);
        Assert.StartsWith("shieldcluster-", environment["POD_NAME"], StringComparison.Ordinal);
    }

    /// <summary>
    /// deploy/k8s/README.md's recipe for real secrets: an overlay of the operator's own replaces the
    /// placeholder Secret from a file; every reference follows the generated name.
    /// </summary>
    [Fact]
    public void An_operator_overlay_replaces_the_placeholder_secrets()
    {
        var rendering = OperatorOverlay(RealSecrets);
        Assert.Single(rendering.All<k8s.Models.V1Secret>());
        var environment = rendering.ServerEnvironment;
        Assert.Equal(RealSecrets["detection-salt"], environment["Shield__Detection__Salt"]);
        Assert.Equal(RealSecrets["admin-ops-key-sha256"], environment["Shield__Admins__ops__ApiKeySha256"]);
        Assert.Equal(RealSecrets["redis"], environment["Shield__Redis"]);
        Assert.Empty(ServerConfiguration.Instance.ValidationFailures(ShieldSettings(environment)));
    }

    /// <summary>
    /// deploy/k8s/README.md's recipe for a managed Redis: the bundled one and its policy go. It
    /// needs kustomize 3 or later (kubectl 1.21+), as README says: kustomize 2 leaves an empty
    /// object behind for each deleted one, which kubectl then refuses.
    /// </summary>
    [Fact]
    public void An_operator_overlay_can_replace_the_bundled_Redis_with_a_managed_one()
    {
        const string managed = "my-redis.example.com:6380,password=secret,ssl=true";
        var secrets = new Dictionary<string, string>(RealSecrets) { ["redis"] = managed };
        var yaml = OperatorOverlayYaml(secrets, ("no-bundled-redis.yaml", """
            $patch: delete
            apiVersion: apps/v1
            kind: StatefulSet
            metadata:
              name: redis
            ---
            $patch: delete
            apiVersion: v1
            kind: Service
            metadata:
              name: redis
            ---
            $patch: delete
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: redis
            """));
        if (Tools.KustomizeMajorVersion < 3)
        {
            var documents = yaml.Split("\n---\n");
            Assert.Equal(3, documents.Count(d => !d.StartsWith("kind:", StringComparison.Ordinal) && !d.Contains("\nkind:", StringComparison.Ordinal)));
            Assert.Contains("kubectl 1.21", File.ReadAllText(Path.Combine(Tools.K8sDirectory, "README.md")), StringComparison.Ordinal);
            return;
        }

        var rendering = new Rendering("operator overlay", yaml);
        Assert.DoesNotContain(rendering.Objects, o => o.Metadata.Name == "redis");
        Assert.Single(rendering.All<k8s.Models.V1Deployment>());
        Assert.Single(rendering.All<k8s.Models.V1NetworkPolicy>());
        Assert.Equal(managed, rendering.ServerEnvironment["Shield__Redis"]);
        var result = Tools.Validate(rendering.Yaml);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Empty(ServerConfiguration.Instance.ValidationFailures(ShieldSettings(rendering.ServerEnvironment)));
    }

    private static Rendering OperatorOverlay(IReadOnlyDictionary<string, string> secrets) =>
        new("operator overlay", OperatorOverlayYaml(secrets));

    /// <summary>An overlay of overlays/cpu in a temporary directory, as README describes it, rendered.</summary>
    private static string OperatorOverlayYaml(IReadOnlyDictionary<string, string> secrets, params (string File, string Content)[] patches)
    {
        var directory = Directory.CreateTempSubdirectory("shield-prod-").FullName;
        try
        {
            var cpu = Path.GetRelativePath(directory, Path.Combine(RepositoryPaths.Root, "deploy", "k8s", "overlays", "cpu")).Replace('\\', '/');
            var patchList = patches.Length == 0 ? "" : "patchesStrategicMerge:\n" + string.Concat(patches.Select(p => $"- {p.File}\n"));
            File.WriteAllText(Path.Combine(directory, "kustomization.yaml"), $"""
                namespace: shieldcluster
                bases:
                - {cpu}
                secretGenerator:
                - name: shield-secrets
                  behavior: replace
                  env: shield-secrets.env

                """ + patchList);
            File.WriteAllLines(Path.Combine(directory, "shield-secrets.env"), secrets.Select(s => $"{s.Key}={s.Value}"));
            foreach (var (file, content) in patches)
            {
                File.WriteAllText(Path.Combine(directory, file), content + "\n");
            }

            return Tools.Kustomize(directory);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
