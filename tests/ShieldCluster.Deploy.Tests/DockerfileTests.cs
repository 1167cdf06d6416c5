using System.Text.Json;
using System.Text.RegularExpressions;
using ShieldCluster.Testing;

namespace ShieldCluster.Deploy.Tests;

/// <summary>deploy/docker/Dockerfile.cpu and .gpu build the server the manifests run, as they run it.</summary>
public class DockerfileTests
{
    public static TheoryData<string> Flavours => ["cpu", "gpu"];

    private static string DockerfilePath(string flavour) => Path.Combine(RepositoryPaths.Root, "deploy", "docker", "Dockerfile." + flavour);

    private static IReadOnlyList<Stage> Load(string flavour) => Dockerfile.Parse(File.ReadAllText(DockerfilePath(flavour)));

    private static Rendering Overlay(string flavour) => Manifests.Render("overlays/" + flavour);

    /// <summary>The stage that publishes, and the words of its <c>dotnet publish</c> command.</summary>
    private static (Stage Stage, IReadOnlyList<string> Words) Publish(IReadOnlyList<Stage> stages)
    {
        var (stage, run) = Assert.Single(stages.SelectMany(s => s.All("RUN").Select(r => (s, r))), p => p.r.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
        var words = run.Arguments.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .SkipWhile(w => w != "publish").Skip(1).TakeWhile(w => w is not ("&&" or ";" or "||")).ToList();
        return (stage, words);
    }

    private static string? Option(IReadOnlyList<string> words, params string[] names)
    {
        var at = words.ToList().FindIndex(w => names.Contains(w));
        return at >= 0 && at + 1 < words.Count ? words[at + 1] : null;
    }

    [Theory]
    [MemberData(nameof(Flavours))]
    public void Publishes_the_server_project_for_linux_x64_framework_dependent(string flavour)
    {
        var stages = Load(flavour);
        var (build, words) = Publish(stages);
        string[] valued = ["-c", "--configuration", "-r", "--runtime", "-o", "--output", "--self-contained", "-f", "--framework"];
        var project = Assert.Single(words.Where((w, i) => !w.StartsWith('-') && (i == 0 || !valued.Contains(words[i - 1]))));
        Assert.Equal("src/ShieldCluster.Server", project.TrimEnd('/'));
        Assert.True(File.Exists(Path.Combine(RepositoryPaths.Root, project, "ShieldCluster.Server.csproj")), $"{project} holds no ShieldCluster.Server.csproj");
        Assert.Contains(build.All("COPY"), c => c.Flags.Count == 0 && c.Words.SkipLast(1).Any(source => project.StartsWith(source.TrimEnd('/') + "/", StringComparison.Ordinal)));
        Assert.Equal("Release", Option(words, "-c", "--configuration"));
        Assert.Equal("linux-x64", Option(words, "-r", "--runtime"));
        Assert.Equal("false", Option(words, "--self-contained"));

        // The runtime stage takes the publish output.
        var output = Option(words, "-o", "--output");
        Assert.NotNull(output);
        var final = stages[^1];
        Assert.Contains(final.All("COPY"), c => c.Flags.TryGetValue("from", out var from) && from == build.Name && c.Words[0].TrimEnd('/') == output.TrimEnd('/'));
    }

    [Theory]
    [InlineData("cpu", false)]
    [InlineData("gpu", true)]
    public void Only_the_gpu_image_builds_ONNX_Runtimes_CUDA_flavour(string flavour, bool gpu)
    {
        var (_, words) = Publish(Load(flavour));
        Assert.Equal(gpu, words.Contains("-p:OrtFlavor=Gpu"));
        Assert.DoesNotContain(words, w => w.Contains("OrtFlavor", StringComparison.OrdinalIgnoreCase) && w != "-p:OrtFlavor=Gpu");

        // The switch the image relies on is the server's own.
        var project = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", "ShieldCluster.Server", "ShieldCluster.Server.csproj"));
        Assert.Contains("'$(OrtFlavor)' == 'Gpu'", project, StringComparison.Ordinal);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu.Linux", project, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Flavours))]
    public void Builds_with_the_NET_10_SDK_the_repository_pins(string flavour)
    {
        var (build, _) = Publish(Load(flavour));
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0", build.Image);
        using var globalJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "global.json")));
        Assert.StartsWith("10.", globalJson.RootElement.GetProperty("sdk").GetProperty("version").GetString(), StringComparison.Ordinal);
        Assert.Contains("<TargetFramework>net10.0</TargetFramework>", File.ReadAllText(Path.Combine(RepositoryPaths.Root, "Directory.Build.props")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_cpu_image_runs_on_the_ASP_NET_Core_10_runtime_image() =>
        Assert.Equal("mcr.microsoft.com/dotnet/aspnet:10.0", Load("cpu")[^1].Image);

    [Fact]
    public void The_gpu_image_runs_on_CUDA_13_and_cuDNN_9_with_the_ASP_NET_Core_10_runtime_of_the_same_Ubuntu()
    {
        var stages = Load("gpu");
        var final = stages[^1];
        var cuda = Regex.Match(final.Image, @"^nvidia/cuda:13\.\d+(\.\d+)?-cudnn9?-runtime-ubuntu(?<ubuntu>\d+\.\d+)$");
        Assert.True(cuda.Success, $"{final.Image} is not NVIDIA's CUDA 13 + cuDNN 9 runtime image");

        var copy = Assert.Single(final.All("COPY"), c => c.Flags.ContainsKey("from") && c.Words[0] == "/usr/share/dotnet");
        var aspnet = Assert.Single(stages, s => s.Name == copy.Flags["from"]);
        var codename = cuda.Groups["ubuntu"].Value switch { "24.04" => "noble", "22.04" => "jammy", var v => v };
        Assert.Equal($"mcr.microsoft.com/dotnet/aspnet:10.0-{codename}", aspnet.Image);
        Assert.Contains(final.All("RUN"), r => r.Arguments.Contains("/usr/share/dotnet/dotnet /usr/bin/dotnet", StringComparison.Ordinal));
        Assert.Contains(final.All("RUN"), r => Regex.IsMatch(r.Arguments, @"\blibicu\d+\b") && r.Arguments.Contains("ca-certificates", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Flavours))]
    public void Runs_as_the_non_root_user_the_pods_run_as(string flavour)
    {
        var user = Assert.Single(Load(flavour)[^1].All("USER")).Words.Single().Split(':');
        var uid = long.Parse(user[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(uid > 0, "USER must not be root");
        var pod = Overlay(flavour).Silos.Spec.Template.Spec.SecurityContext;
        Assert.Equal(pod.RunAsUser, uid);
        Assert.Equal(pod.RunAsGroup, long.Parse(user[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(Flavours))]
    public void Exposes_the_ports_the_pods_declare(string flavour)
    {
        var exposed = Load(flavour)[^1].All("EXPOSE").SelectMany(e => e.Words).Select(p => int.Parse(p.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture)).Order();
        var declared = Overlay(flavour).Server.Ports.Select(p => p.ContainerPort).Order();
        Assert.Equal(declared, exposed);
    }

    [Theory]
    [MemberData(nameof(Flavours))]
    public void Starts_the_server_assembly_from_the_publish_output(string flavour)
    {
        var final = Load(flavour)[^1];
        Assert.Equal(["dotnet", "ShieldCluster.Server.dll"], Assert.Single(final.All("ENTRYPOINT")).Words);
        Assert.True(Assert.Single(final.All("ENTRYPOINT")).Arguments.TrimStart().StartsWith('['), "exec form: the server gets SIGTERM directly");
        Assert.DoesNotContain("<AssemblyName>", File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", "ShieldCluster.Server", "ShieldCluster.Server.csproj")), StringComparison.Ordinal);
        var workdir = Assert.Single(final.All("WORKDIR")).Arguments.Trim();
        Assert.Contains(final.All("COPY"), c => c.Flags.ContainsKey("from") && c.Words[^1].TrimEnd('/') is "." or "" || c.Words[^1].TrimEnd('/') == workdir);
    }

    [Theory]
    [MemberData(nameof(Flavours))]
    public void Its_environment_binds_to_the_server_and_agrees_with_the_overlay(string flavour)
    {
        var final = Load(flavour)[^1];
        var env = final.Environment;
        foreach (var (name, value) in env.Where(e => e.Key.StartsWith("Shield__", StringComparison.Ordinal)))
        {
            Assert.Null(ServerConfiguration.Instance.WhyUnbound(ServerConfiguration.KeyOf(name), value));
        }

        var overlay = Overlay(flavour).ServerEnvironment;
        foreach (var name in new[] { "ASPNETCORE_URLS", "Shield__Inference__ModelRepository", "Shield__Inference__Device" })
        {
            Assert.Equal(overlay[name], env[name]);
        }

        // The model repository is in the image where the configuration points.
        Assert.Contains(final.All("COPY"), c => c.Flags.Count == 0 && c.Words[0].TrimEnd('/') == "models" && c.Words[^1].TrimEnd('/') == env["Shield__Inference__ModelRepository"]);
    }

    [Theory]
    [MemberData(nameof(Flavours))]
    public void Copies_only_files_that_exist_and_that_dockerignore_keeps(string flavour)
    {
        var ignore = new DockerIgnore(File.ReadAllLines(Path.Combine(RepositoryPaths.Root, ".dockerignore")));
        foreach (var copy in Load(flavour).SelectMany(s => s.All("COPY")).Where(c => !c.Flags.ContainsKey("from")))
        {
            foreach (var source in copy.Words.SkipLast(1))
            {
                var path = Path.Combine(RepositoryPaths.Root, source);
                Assert.True(File.Exists(path) || Directory.Exists(path), $"line {copy.Line}: COPY {source}: no such file in the repository");
                Assert.False(ignore.Excludes(source), $"line {copy.Line}: COPY {source} is excluded by .dockerignore");
            }
        }
    }

    [Fact]
    public void Dockerignore_keeps_host_build_outputs_out_and_the_served_models_in()
    {
        var ignore = new DockerIgnore(File.ReadAllLines(Path.Combine(RepositoryPaths.Root, ".dockerignore")));
        Assert.True(ignore.Excludes("src/ShieldCluster.Server/bin"));
        Assert.True(ignore.Excludes("src/ShieldCluster.Server/obj/project.assets.json"));
        Assert.True(ignore.Excludes(".git/HEAD"));
        foreach (var model in Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "models"), "*", SearchOption.AllDirectories)
                     .Select(f => Path.GetRelativePath(RepositoryPaths.Root, f))
                     .Where(f => f.EndsWith(".onnx", StringComparison.Ordinal) || f.EndsWith(".onnx.data", StringComparison.Ordinal) || f.EndsWith("config.json", StringComparison.Ordinal)))
        {
            Assert.False(ignore.Excludes(model), $"{model} is served but excluded from the image");
        }

        Assert.False(ignore.Excludes("src/ShieldCluster.Server/Program.cs"));
        Assert.False(ignore.Excludes("Directory.Packages.props"));
    }

    [Theory]
    [MemberData(nameof(Flavours))]
    public void The_build_command_documented_in_the_Dockerfile_tags_the_image_the_overlay_runs(string flavour)
    {
        var image = Overlay(flavour).Server.Image;
        Assert.Contains($"docker build -f deploy/docker/Dockerfile.{flavour} -t {image} .", File.ReadAllText(DockerfilePath(flavour)), StringComparison.Ordinal);
    }

    /// <summary>The parser and the matcher themselves.</summary>
    [Fact]
    public void The_parser_joins_continuations_and_the_matcher_follows_Docker()
    {
        var stages = Dockerfile.Parse("# syntax=docker/dockerfile:1\nFROM a:1 AS one\nRUN x \\\n  # comment\n  y\nFROM b\nENV A=1 B=\"two words\"\nENV C 3\nCOPY --from=one /x /y\n");
        Assert.Equal(["a:1", "b"], stages.Select(s => s.Image));
        Assert.Equal("one", stages[0].Name);
        Assert.Equal("x    y", Assert.Single(stages[0].All("RUN")).Arguments.Trim());
        Assert.Equal("two words", stages[1].Environment["B"]);
        Assert.Equal("3", stages[1].Environment["C"]);
        Assert.Equal("one", Assert.Single(stages[1].All("COPY")).Flags["from"]);

        var ignore = new DockerIgnore(["**/bin", "models/*/samples", "docs", "!docs/keep.md"]);
        Assert.True(ignore.Excludes("bin"));
        Assert.True(ignore.Excludes("a/b/bin/x.dll"));
        Assert.False(ignore.Excludes("a/binary"));
        Assert.True(ignore.Excludes("models/m/samples/s.json"));
        Assert.False(ignore.Excludes("models/m/1/model.onnx"));
        Assert.True(ignore.Excludes("docs/a.md"));
        Assert.False(ignore.Excludes("docs/keep.md"));
    }
}
