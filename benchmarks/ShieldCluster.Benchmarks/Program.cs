using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(ShieldCluster.Benchmarks.DetectorBenchmarks).Assembly).Run(args);
