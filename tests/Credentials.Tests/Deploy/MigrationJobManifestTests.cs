using k8s.Models;

namespace Credentials.Tests.Deploy;

/// <summary>The schema Job: `migrate` from the API image with the migrator's Secret; the app's pods never hold it.</summary>
public sealed class MigrationJobManifestTests
{
    private const string MigratorSecret = "credentials-migrator";

    public static TheoryData<string> Kustomizations => new() { "base", "overlays/example" };

    [Theory, MemberData(nameof(Kustomizations))]
    public void The_migrate_job_runs_the_api_image_with_the_migrator_connection_only(string kustomization)
    {
        var manifests = Manifests.Render(kustomization);
        var job = Assert.Single(manifests.All<V1Job>());
        var container = Assert.Single(job.Spec.Template.Spec.Containers);
        var api = Assert.Single(manifests.Deployment("credentials-api").Spec.Template.Spec.Containers);

        Assert.Equal(["migrate"], container.Args);
        Assert.Equal(api.Image, container.Image);
        var connection = Assert.Single(container.Env);
        Assert.Equal("Storage__MigrationConnectionString", connection.Name);
        Assert.Equal(MigratorSecret, connection.ValueFrom.SecretKeyRef.Name);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        Assert.Equal("OnFailure", job.Spec.Template.Spec.RestartPolicy);
        // Its pod is one of ours, so the PostgreSQL and DNS egress policies let it out.
        Assert.Equal("credentials", job.Spec.Template.Metadata.Labels["app.kubernetes.io/part-of"]);
    }

    [Theory, MemberData(nameof(Kustomizations))]
    public void No_silo_or_api_node_can_read_the_migrator_secret(string kustomization)
    {
        var manifests = Manifests.Render(kustomization);

        foreach (var deployment in manifests.All<V1Deployment>())
        {
            var spec = deployment.Spec.Template.Spec;
            var secrets = spec.Containers.SelectMany(c => c.Env ?? []).Select(e => e.ValueFrom?.SecretKeyRef?.Name)
                .Concat(spec.Containers.SelectMany(c => c.EnvFrom ?? []).Select(e => e.SecretRef?.Name))
                .Concat((spec.Volumes ?? []).Select(v => v.Secret?.SecretName));
            Assert.DoesNotContain(MigratorSecret, secrets);
        }
    }
}
