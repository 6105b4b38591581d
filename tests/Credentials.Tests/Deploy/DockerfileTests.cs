using System.Text.RegularExpressions;
using System.Xml.Linq;
using Credentials.Tests.Cluster;
using k8s.Models;

namespace Credentials.Tests.Deploy;

/// <summary>
/// What the images need, read from the Dockerfiles (no Docker engine here): every source the
/// published project compiles is copied into the build stage, and the Api image can run embedded
/// with its data on a volume the app user owns.
/// </summary>
public sealed partial class DockerfileTests
{
    private const int AppUid = 1654;

    public static TheoryData<string, string> Images => new() { { "Api.Dockerfile", "Api/Api.csproj" }, { "Silo.Dockerfile", "Silo/Silo.csproj" } };

    private static string Root => LocalClusterFixture.RepositoryRoot;

    private static string[] Lines(string dockerfile) =>
        File.ReadAllLines(Path.Combine(Root, "deploy", "docker", dockerfile)).Where(l => !l.TrimStart().StartsWith('#')).ToArray();

    [Theory, MemberData(nameof(Images))]
    public void The_build_stage_copies_every_project_and_linked_file_the_image_compiles(string dockerfile, string project)
    {
        var copied = Lines(dockerfile).Select(l => CopyFromContext().Match(l)).Where(m => m.Success)
            .Select(m => m.Groups["source"].Value.TrimEnd('/')).ToList();
        foreach (var needed in SourcesOf(project))
        {
            Assert.True(copied.Any(c => needed == c || needed.StartsWith(c + "/", StringComparison.Ordinal)),
                $"{dockerfile} does not copy {needed}, which {project} needs");
        }
    }

    [Fact]
    public void The_api_image_keeps_embedded_data_on_a_volume_the_app_user_owns()
    {
        var lines = Lines("Api.Dockerfile");
        var runtime = lines.SkipWhile(l => !l.StartsWith("FROM", StringComparison.Ordinal) || !l.Contains("AS runtime")).ToArray();
        Assert.NotEmpty(runtime);

        var data = Assert.Single(runtime, l => l.StartsWith("ENV Storage__DataDirectory=", StringComparison.Ordinal)).Split('=', 2)[1];
        Assert.StartsWith("/", data);
        Assert.Contains(runtime, l => l == $"VOLUME {data}");
        // The directory exists in the image, owned by the user the process runs as.
        Assert.Contains(runtime, l => Regex.IsMatch(l, $@"^COPY --from=\w+ --chown={AppUid}:{AppUid} \S+ {Regex.Escape(data)}$"));
        Assert.Equal("USER $APP_UID", Assert.Single(runtime, l => l.StartsWith("USER", StringComparison.Ordinal)));

        // The pods run as that same user.
        foreach (var deployment in Manifests.Render("base").All<V1Deployment>())
        {
            Assert.Equal(AppUid, deployment.Spec.Template.Spec.SecurityContext.RunAsUser);
        }
    }

    /// <summary>The project's directory, its project references' (transitively) and files linked from outside them.</summary>
    private static IEnumerable<string> SourcesOf(string project)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            if (!seen.Add(current)) continue;
            var directory = Path.GetDirectoryName(current)!;
            yield return directory;
            var xml = XDocument.Load(Path.Combine(Root, current));
            foreach (var item in xml.Descendants().Where(e => e.Name.LocalName is "ProjectReference" or "Compile"))
            {
                var include = item.Attribute("Include")?.Value;
                if (include is null || !include.StartsWith("..", StringComparison.Ordinal)) continue;
                var path = Path.GetRelativePath(Root, Path.GetFullPath(Path.Combine(Root, directory, include.Replace('\\', '/')))).Replace('\\', '/');
                if (item.Name.LocalName == "ProjectReference") pending.Push(path);
                else yield return path;
            }
        }
    }

    [GeneratedRegex(@"^COPY (?!--from)(?:--\S+ )*(?<source>\S+) \S+$")]
    private static partial Regex CopyFromContext();
}
