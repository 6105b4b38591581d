using System.Diagnostics;
using k8s;
using k8s.Models;
using Credentials.Tests.Cluster;

namespace Credentials.Tests.Deploy;

/// <summary>
/// A kustomization under deploy/k8s rendered by <c>kubectl kustomize</c> (offline) and loaded into
/// the KubernetesClient package's typed models, strictly: a misspelt field fails the load.
/// </summary>
public sealed class Manifests
{
    private Manifests(string path, IReadOnlyList<object> objects)
    {
        Path = path;
        Objects = objects;
    }

    public string Path { get; }
    public IReadOnlyList<object> Objects { get; }

    public IEnumerable<T> All<T>() => Objects.OfType<T>();

    public V1Deployment Deployment(string name) => All<V1Deployment>().Single(d => d.Metadata.Name == name);

    public V1ConfigMap ConfigMap(string name) => All<V1ConfigMap>().Single(c => c.Metadata.Name == name);

    public static Manifests Render(string kustomization)
    {
        var directory = System.IO.Path.Combine(LocalClusterFixture.RepositoryRoot, "deploy", "k8s", kustomization);
        var yaml = Kustomize(directory);
        return new Manifests(kustomization, KubernetesYaml.LoadAllFromString(yaml, strict: true));
    }

    private static string Kustomize(string directory)
    {
        ProcessStartInfo start = new("kubectl", ["kustomize", directory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException(
                "kubectl (with kustomize v4 or later) is needed to render deploy/k8s; install it and re-run.", ex);
        }
        using (process)
        {
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromMinutes(1))) process.Kill();
            Assert.True(process.ExitCode == 0, $"kubectl kustomize {directory} failed: {error.Result}");
            return output;
        }
    }
}
