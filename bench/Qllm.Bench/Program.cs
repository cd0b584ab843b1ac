using BenchmarkDotNet.Running;

namespace Qllm.Bench;

/// <summary>Micro-benchmarks of the kernels (BenchmarkDotNet). Run: dotnet run -c Release --project bench/Qllm.Bench -- --filter '*'</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
