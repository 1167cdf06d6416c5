using System.ComponentModel;
using System.Diagnostics;
using ShieldCluster.Testing;

namespace ShieldCluster.Deploy.Tests;

/// <summary>The outside tools the checks run: kubectl (kustomize) and node (the schema validator).</summary>
internal static class Tools
{
    public static string K8sDirectory => Path.Combine(RepositoryPaths.Root, "deploy", "k8s");

    public static string ValidatorDirectory => Path.Combine(K8sDirectory, "validate");

    /// <summary>kubectl on PATH, or the one named by the KUBECTL environment variable.</summary>
    public static string Kubectl => Environment.GetEnvironmentVariable("KUBECTL") is { Length: > 0 } kubectl ? kubectl : "kubectl";

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\n{Stdout}\n{Stderr}";
    }

    /// <summary>The objects a kustomization renders to, as YAML (kubectl kustomize).</summary>
    public static string Kustomize(string directory)
    {
        var result = Run(Kubectl, ["kustomize", directory], null, "kubectl is needed to render deploy/k8s: run scripts/test.sh (installs Debian's kubernetes-client) or set KUBECTL");
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"kubectl kustomize {directory} failed: {result}");
        }

        return result.Stdout;
    }

    /// <summary>
    /// The major version of the kustomize inside kubectl: kubectl 1.21 and later print it; older
    /// ones (Debian bookworm's kubernetes-client is 1.20) embed kustomize 2.0.3.
    /// </summary>
    public static int KustomizeMajorVersion => KustomizeMajor.Value;

    private static readonly Lazy<int> KustomizeMajor = new(() =>
    {
        var result = Run(Kubectl, ["version", "--client"], null, "kubectl is needed to render deploy/k8s");
        var match = System.Text.RegularExpressions.Regex.Match(result.Stdout, @"Kustomize Version: v?(\d+)\.");
        return match.Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 2;
    });

    /// <summary>Runs deploy/k8s/validate/validate.js on the YAML.</summary>
    public static Result Validate(string yaml)
    {
        if (!Directory.Exists(Path.Combine(ValidatorDirectory, "node_modules", "kubernetes-models")))
        {
            throw new InvalidOperationException($"The validator's packages are not installed: run `npm ci` in {ValidatorDirectory} (scripts/test.sh does)");
        }

        return Run("node", [Path.Combine(ValidatorDirectory, "validate.js")], yaml, "node is needed to validate deploy/k8s: run scripts/test.sh (installs Debian's nodejs and npm)");
    }

    private static Result Run(string file, IReadOnlyList<string> arguments, string? stdin, string whenMissing)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryPaths.Root,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException($"{whenMissing} ({file}: {ex.Message})", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (stdin is not null)
            {
                process.StandardInput.Write(stdin);
            }

            process.StandardInput.Close();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {string.Join(' ', arguments)} ran over 60 s");
            }

            return new Result(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
        }
    }
}
