using k8s.Models;

namespace ShieldCluster.Deploy.Tests;

/// <summary>Every selector and reference of the rendered objects finds what it means.</summary>
public class SelectorTests
{
    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void Every_workload_selects_its_own_pod_template_and_no_other_workloads_pods(string kustomization)
    {
        var workloads = Manifests.Render(kustomization).Workloads.ToList();
        foreach (var workload in workloads)
        {
            Assert.True(workload.Selector.MatchLabels is { Count: > 0 } || workload.Selector.MatchExpressions is { Count: > 0 }, $"{workload.Name}: empty selector");
            Assert.True(Manifests.Matches(workload.Selector, workload.PodLabels), $"{workload.Kind}/{workload.Name}: selector does not match its pod template");
            foreach (var other in workloads.Where(w => w != workload))
            {
                Assert.False(Manifests.Matches(workload.Selector, other.PodLabels), $"{workload.Name}'s selector also matches {other.Name}'s pods");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void Every_Service_selects_pods_and_targets_ports_they_declare(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        foreach (var service in rendering.All<V1Service>())
        {
            var selected = rendering.Workloads.Where(w => Manifests.Matches(service.Spec.Selector, w.PodLabels)).ToList();
            var workload = Assert.Single(selected);
            var ports = workload.Template.Spec.Containers.SelectMany(c => c.Ports ?? []).ToList();
            foreach (var port in service.Spec.Ports)
            {
                var target = port.TargetPort?.Value ?? port.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(ports.Any(p => p.Name == target || p.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture) == target),
                    $"Service {service.Metadata.Name} port {port.Name} targets {target}, which {workload.Name}'s pods do not declare");
            }
        }

        var silos = rendering.Single<V1Service>("shieldcluster");
        Assert.Equal(new[] { ("http", 8080), ("grpc", 8081) }, silos.Spec.Ports.Select(p => (p.Name, p.Port)));
        Assert.True(Manifests.Matches(silos.Spec.Selector, rendering.Silos.Spec.Template.Metadata.Labels));
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void The_PodDisruptionBudget_covers_the_silos_and_lets_one_go_at_a_time(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        var pdb = Assert.Single(rendering.All<V1PodDisruptionBudget>());
        Assert.True(Manifests.Matches(pdb.Spec.Selector, rendering.Silos.Spec.Template.Metadata.Labels));
        Assert.Single(rendering.Workloads, w => Manifests.Matches(pdb.Spec.Selector, w.PodLabels));
        Assert.True(pdb.Spec.MaxUnavailable?.Value == "1" || pdb.Spec.MinAvailable?.Value == "1", "maxUnavailable or minAvailable 1");

        // The autoscaler keeps at least two silos, so a drain can always take one.
        var hpa = Assert.Single(rendering.All<V2HorizontalPodAutoscaler>());
        Assert.True(hpa.Spec.MinReplicas >= 2, $"minReplicas {hpa.Spec.MinReplicas}");
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void The_autoscaler_scales_the_silos_Deployment_on_CPU(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        var hpa = Assert.Single(rendering.All<V2HorizontalPodAutoscaler>());
        var target = hpa.Spec.ScaleTargetRef;
        Assert.Equal(("apps/v1", "Deployment"), (target.ApiVersion, target.Kind));
        Assert.Equal(rendering.Silos.Metadata.Name, target.Name);
        Assert.Equal(rendering.Silos.Metadata.NamespaceProperty, hpa.Metadata.NamespaceProperty);
        var metric = Assert.Single(hpa.Spec.Metrics);
        Assert.Equal(("Resource", "cpu", "Utilization"), (metric.Type, metric.Resource.Name, metric.Resource.Target.Type));
        Assert.True(hpa.Spec.MaxReplicas > hpa.Spec.MinReplicas);
        // Utilisation is measured against requests: the server must request CPU.
        Assert.True(rendering.Server.Resources.Requests.ContainsKey("cpu"));
        // The autoscaler owns the replica count; a fixed one would be reset on every apply.
        Assert.Null(rendering.Silos.Spec.Replicas);
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void The_silos_run_as_the_ServiceAccount_that_the_RoleBinding_grants_Orleans_pod_rights(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        var podSpec = rendering.Silos.Spec.Template.Spec;
        var account = rendering.Single<V1ServiceAccount>(podSpec.ServiceAccountName);
        Assert.NotEqual(false, podSpec.AutomountServiceAccountToken ?? account.AutomountServiceAccountToken);

        var bindings = rendering.All<V1RoleBinding>().Where(b => b.Subjects.Any(s =>
            s.Kind == "ServiceAccount" && s.Name == account.Metadata.Name && s.NamespaceProperty == account.Metadata.NamespaceProperty)).ToList();
        var binding = Assert.Single(bindings);
        Assert.Equal(("rbac.authorization.k8s.io", "Role"), (binding.RoleRef.ApiGroup, binding.RoleRef.Kind));
        var role = rendering.Single<V1Role>(binding.RoleRef.Name);
        Assert.Equal(binding.Metadata.NamespaceProperty, role.Metadata.NamespaceProperty);
        var pods = role.Rules.Where(r => r.ApiGroups.Contains("") && r.Resources.Contains("pods")).SelectMany(r => r.Verbs).ToHashSet();
        foreach (var verb in new[] { "get", "watch", "list", "delete", "patch" })
        {
            Assert.Contains(verb, pods);
        }

        // Least privilege: pods only, nothing cluster-wide.
        Assert.All(role.Rules, r => Assert.Equal(["pods"], r.Resources));
        Assert.DoesNotContain(rendering.Objects, o => o.Kind is "ClusterRole" or "ClusterRoleBinding");
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void Network_policies_select_pods_and_name_ports_they_declare(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        var policies = rendering.All<V1NetworkPolicy>().ToList();
        Assert.NotEmpty(policies);
        foreach (var policy in policies)
        {
            var selected = Assert.Single(rendering.Workloads, w => Manifests.Matches(policy.Spec.PodSelector, w.PodLabels));
            var ports = selected.Template.Spec.Containers.SelectMany(c => c.Ports ?? []).ToList();
            foreach (var rule in policy.Spec.Ingress ?? [])
            {
                foreach (var port in rule.Ports ?? [])
                {
                    Assert.Contains(ports, p => p.Name == port.Port.Value || p.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture) == port.Port.Value);
                }

                foreach (var peer in rule.FromProperty ?? [])
                {
                    if (peer.PodSelector is { } from)
                    {
                        Assert.Contains(rendering.Workloads, w => Manifests.Matches(from, w.PodLabels));
                    }
                }
            }
        }

        // Redis answers the silos, and only them.
        var redis = rendering.Single<V1NetworkPolicy>("redis");
        var peers = redis.Spec.Ingress.SelectMany(r => r.FromProperty ?? []).ToList();
        Assert.NotEmpty(peers);
        Assert.All(peers, p => Assert.True(Manifests.Matches(p.PodSelector, rendering.Silos.Spec.Template.Metadata.Labels)));
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void Volumes_mounts_claims_and_spread_constraints_refer_to_what_exists(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        foreach (var workload in rendering.Workloads)
        {
            var spec = workload.Template.Spec;
            var volumes = (spec.Volumes ?? []).Select(v => v.Name).ToHashSet();
            if (rendering.All<V1StatefulSet>().SingleOrDefault(s => s.Metadata.Name == workload.Name) is { } set)
            {
                volumes.UnionWith((set.Spec.VolumeClaimTemplates ?? []).Select(t => t.Metadata.Name));
            }

            foreach (var mount in spec.Containers.SelectMany(c => c.VolumeMounts ?? []))
            {
                Assert.True(volumes.Contains(mount.Name), $"{workload.Name} mounts {mount.Name}, which is no volume");
            }

            foreach (var claim in (spec.Volumes ?? []).Select(v => v.PersistentVolumeClaim).OfType<V1PersistentVolumeClaimVolumeSource>())
            {
                Assert.Contains(rendering.All<V1PersistentVolumeClaim>(), c => c.Metadata.Name == claim.ClaimName);
            }

            foreach (var constraint in spec.TopologySpreadConstraints ?? [])
            {
                Assert.True(Manifests.Matches(constraint.LabelSelector, workload.PodLabels), $"{workload.Name}: a spread constraint does not select its own pods");
            }
        }
    }

    /// <summary>The matcher itself: a selector with one label off selects nothing.</summary>
    [Fact]
    public void A_selector_that_differs_in_one_label_does_not_match()
    {
        var labels = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "shieldcluster", ["app.kubernetes.io/component"] = "silo" };
        Assert.True(Manifests.Matches(new Dictionary<string, string> { ["app.kubernetes.io/name"] = "shieldcluster" }, labels));
        Assert.False(Manifests.Matches(new Dictionary<string, string> { ["app.kubernetes.io/name"] = "shieldcluster", ["app.kubernetes.io/component"] = "redis" }, labels));
        Assert.False(Manifests.Matches(new Dictionary<string, string>(), labels));
        Assert.False(Manifests.Matches(new V1LabelSelector { MatchExpressions = [new V1LabelSelectorRequirement { Key = "app.kubernetes.io/component", OperatorProperty = "NotIn", Values = ["silo"] }] }, labels));
    }
}
