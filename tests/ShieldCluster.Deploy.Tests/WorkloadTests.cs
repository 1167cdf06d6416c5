using k8s.Models;

namespace ShieldCluster.Deploy.Tests;

/// <summary>What the silos and Redis need to run safely: rollout, shutdown, security, resources, GPUs.</summary>
public class WorkloadTests
{
    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void Rolling_updates_add_a_silo_before_removing_one(string kustomization)
    {
        var strategy = Manifests.Render(kustomization).Silos.Spec.Strategy;
        Assert.Equal("RollingUpdate", strategy.Type);
        Assert.Equal("0", strategy.RollingUpdate.MaxUnavailable.Value);
        Assert.Equal("1", strategy.RollingUpdate.MaxSurge.Value);
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void A_stopping_silo_drains_within_its_grace_period(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        var grace = rendering.Silos.Spec.Template.Spec.TerminationGracePeriodSeconds;
        var command = rendering.Server.Lifecycle.PreStop.Exec.Command;
        Assert.Equal("sleep", command[0]);
        var sleep = int.Parse(Assert.Single(command.Skip(1)), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(sleep, 5, 30);
        // The sleep, then the host's shutdown (30 s by default: ASP.NET Core and the silo's grains).
        Assert.True(grace >= sleep + 30, $"terminationGracePeriodSeconds {grace} < preStop {sleep} s + 30 s of shutdown");
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void Every_container_runs_unprivileged_on_a_read_only_root(string kustomization)
    {
        foreach (var workload in Manifests.Render(kustomization).Workloads)
        {
            var pod = workload.Template.Spec.SecurityContext;
            Assert.True(pod.RunAsNonRoot, $"{workload.Name}: runAsNonRoot");
            Assert.True(pod.RunAsUser > 0, $"{workload.Name}: runAsUser {pod.RunAsUser}");
            Assert.Equal("RuntimeDefault", pod.SeccompProfile?.Type);
            Assert.False(workload.Template.Spec.HostNetwork ?? false);
            foreach (var container in workload.Template.Spec.Containers)
            {
                var security = container.SecurityContext;
                Assert.True(security.ReadOnlyRootFilesystem, $"{container.Name}: readOnlyRootFilesystem");
                Assert.False(security.AllowPrivilegeEscalation ?? true, $"{container.Name}: allowPrivilegeEscalation");
                Assert.False(security.Privileged ?? false);
                Assert.Equal(["ALL"], security.Capabilities.Drop);
                Assert.NotNull(container.Resources.Requests);
                Assert.True(container.Resources.Limits.ContainsKey("memory"), $"{container.Name}: no memory limit");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void The_server_gets_a_writable_tmp_and_its_model_repository(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        var spec = rendering.Silos.Spec.Template.Spec;
        var tmp = Assert.Single(rendering.Server.VolumeMounts, m => m.MountPath == "/tmp");
        Assert.NotNull(Assert.Single(spec.Volumes, v => v.Name == tmp.Name).EmptyDir);
        Assert.Equal("/models", rendering.ServerEnvironment["Shield__Inference__ModelRepository"]);
        if (rendering.Server.VolumeMounts.SingleOrDefault(m => m.MountPath == "/models") is { } models)
        {
            Assert.True(models.ReadOnlyProperty, "the model repository is mounted read-only");
        }
    }

    [Fact]
    public void The_models_pvc_example_mounts_a_claim_read_only_at_models()
    {
        var rendering = Manifests.Render("examples/models-pvc");
        var mount = Assert.Single(rendering.Server.VolumeMounts, m => m.MountPath == "/models");
        Assert.True(mount.ReadOnlyProperty);
        var volume = Assert.Single(rendering.Silos.Spec.Template.Spec.Volumes, v => v.Name == mount.Name);
        var claim = rendering.Single<V1PersistentVolumeClaim>(volume.PersistentVolumeClaim.ClaimName);
        Assert.True(claim.Spec.AccessModes.Contains("ReadOnlyMany") || claim.Spec.AccessModes.Contains("ReadWriteMany"), "every silo mounts the claim");
    }

    [Fact]
    public void The_gpu_overlay_runs_the_gpu_image_with_one_GPU_on_GPU_nodes()
    {
        var rendering = Manifests.Render("overlays/gpu");
        var spec = rendering.Silos.Spec.Template.Spec;
        Assert.Equal("shieldcluster:gpu", rendering.Server.Image);
        Assert.Equal("1", rendering.Server.Resources.Limits["nvidia.com/gpu"].ToString());
        Assert.Equal("true", spec.NodeSelector["nvidia.com/gpu.present"]);
        Assert.Contains(spec.Tolerations, t => t.Key == "nvidia.com/gpu" && t.Effect == "NoSchedule" && t.OperatorProperty == "Exists");
        Assert.Equal("cuda", rendering.ServerEnvironment["Shield__Inference__Device"]);
        Assert.Contains(rendering.Server.Env, e => e.Name == "Shield__Inference__Device");
    }

    [Fact]
    public void The_cpu_overlay_runs_the_cpu_image_without_GPUs()
    {
        var rendering = Manifests.Render("overlays/cpu");
        Assert.Equal("shieldcluster:cpu", rendering.Server.Image);
        Assert.DoesNotContain(rendering.Server.Resources.Limits.Keys, k => k.StartsWith("nvidia.com/", StringComparison.Ordinal));
        Assert.Null(rendering.Silos.Spec.Template.Spec.NodeSelector);
        Assert.Equal("cpu", rendering.ServerEnvironment["Shield__Inference__Device"]);
    }

    [Theory]
    [MemberData(nameof(Manifests.KustomizationData), MemberType = typeof(Manifests))]
    public void Redis_keeps_an_append_only_file_on_its_persistent_volume(string kustomization)
    {
        var rendering = Manifests.Render(kustomization);
        var redis = rendering.Single<V1StatefulSet>("redis");
        Assert.Equal(1, redis.Spec.Replicas);
        var container = Assert.Single(redis.Spec.Template.Spec.Containers);
        var command = container.Command.Concat(container.Args ?? []).ToList();
        Assert.Equal("redis-server", command[0]);
        Assert.Equal("yes", command[command.IndexOf("--appendonly") + 1]);
        var dir = command[command.IndexOf("--dir") + 1];
        var claim = Assert.Single(redis.Spec.VolumeClaimTemplates);
        Assert.Contains(container.VolumeMounts, m => m.Name == claim.Metadata.Name && m.MountPath == dir);
        Assert.Equal(["ReadWriteOnce"], claim.Spec.AccessModes);
        var service = rendering.Single<V1Service>(redis.Spec.ServiceName);
        Assert.Equal("None", service.Spec.ClusterIP);
    }
}
