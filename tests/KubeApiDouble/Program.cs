using System.Runtime.InteropServices;
using KubeApiDouble;

// dotnet KubeApiDouble.dll --kubeconfig <path> [--namespace devdb]: for tests that run pwsh/kubectl against the double.
string? kubeconfig = null;
var ns = "devdb";
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--kubeconfig" when i + 1 < args.Length: kubeconfig = args[++i]; break;
        case "--namespace" when i + 1 < args.Length: ns = args[++i]; break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}; usage: KubeApiDouble --kubeconfig <path> [--namespace devdb]");
            return 2;
    }
}
if (kubeconfig is null)
{
    Console.Error.WriteLine("usage: KubeApiDouble --kubeconfig <path> [--namespace devdb]");
    return 2;
}

await using var server = await KubeApiServer.StartAsync();
server.WriteKubeconfig(kubeconfig, ns);
var stop = new TaskCompletionSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.TrySetResult(); });
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.TrySetResult(); });
Console.WriteLine($"listening {server.Url.ToString().TrimEnd('/')}");
await stop.Task;
return 0;
