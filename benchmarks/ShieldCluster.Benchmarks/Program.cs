using BenchmarkDotNet.Running;

if (args is ["scale", ..])
{
    return await ShieldCluster.Benchmarks.ScaleRun.RunAsync(args);
}

BenchmarkSwitcher.FromAssembly(typeof(ShieldCluster.Benchmarks.DetectorBenchmarks).Assembly).Run(args);
return 0;
