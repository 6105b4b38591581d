using System.Diagnostics;
using Credentials.Api.Commands;
using Credentials.Tests.Faults;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Commands;

/// <summary>
/// The command line itself: help everywhere, usage errors, and which arguments mean "serve". None
/// of these start anything: no service runs in this class.
/// </summary>
public sealed class CommandLineTests
{
    public static TheoryData<string> Commands => new()
    {
        "",
        "platform",
        "platform list",
        "platform create",
        "platform show",
        "token",
        "token list",
        "token create",
        "token revoke",
        "jwt",
        "jwt mint",
        "migrate",
    };

    [Theory, MemberData(nameof(Commands))]
    public async Task Help_prints_the_usage_of_each_command_and_starts_nothing(string command)
    {
        var data = Path.Combine(TestBackends.NewTempDirectory(), "never-made");
        string[] words = command.Length == 0 ? [] : command.Split(' ');

        foreach (var help in new[] { "--help", "-h" })
        {
            var run = await CommandRun.Of([.. words, help, $"--Storage:DataDirectory={data}"]);

            Assert.Equal(0, run.Code);
            Assert.Contains($"Usage:\n  {string.Join(' ', ["Credentials.Api", .. words])} ", run.Output.ReplaceLineEndings("\n"));
            Assert.Equal("", run.Error);
        }
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public async Task The_root_help_lists_every_command_and_how_settings_are_passed()
    {
        var run = await CommandRun.Of("--help");

        foreach (var command in new[] { "platform", "token", "jwt", "migrate" }) Assert.Contains($"\n  {command} ", run.Output.ReplaceLineEndings("\n"));
        Assert.Contains("--Section:Key=value", run.Output);
    }

    [Theory]
    [InlineData()]
    [InlineData("--Urls=http://127.0.0.1:5999")]
    [InlineData("--Orleans:Mode=Client", "--Urls", "http://127.0.0.1:5999")]
    [InlineData("--contentRoot=/tmp", "--environment=Development", "--applicationName=Api")]
    public async Task Settings_alone_mean_serve(params string[] args)
    {
        var run = await CommandRun.Of(args);

        Assert.Equal((null, "", ""), (run.Code, run.Output, run.Error));
    }

    public static TheoryData<string[], string> UsageErrors => new()
    {
        { ["platfrom", "list"], "Unrecognized command or argument 'platfrom'" },
        { ["platform"], "Required command was not provided" },
        { ["platform", "show"], "Required argument 'key' missing" },
        { ["platform", "create", "Upper"], "A platform key is 1 to 64" },
        { ["token", "create", "demo"], "Required argument 'name' missing" },
        { ["token", "list", "demo", "extra"], "Unrecognized command or argument 'extra'" },
        { ["jwt", "mint", "demo", "alice", "root"], "Argument 'root' not recognized" },
        { ["jwt", "mint", "demo", "alice", "admin", "0"], "minutes is a whole number from 1 to 525600" },
        { ["jwt", "mint", "demo", "alice", "admin", "soon"], "minutes is a whole number from 1 to 525600" },
        { ["jwt", "mint", "demo", "al ice"], "A user id is 1 to 150" },
        { ["Urls=http://127.0.0.1:5999"], "Unrecognized command or argument 'Urls=http://127.0.0.1:5999'" },
    };

    [Theory, MemberData(nameof(UsageErrors))]
    public async Task A_usage_error_exits_2_with_the_reason_and_where_to_find_help(string[] args, string reason)
    {
        var run = await CommandRun.Of(args);

        Assert.Equal(OperatorCommands.UsageError, run.Code);
        Assert.Contains(reason, run.Error);
        Assert.Contains("--help' for usage.", run.Error);
        Assert.Equal("", run.Output);
    }

    [Fact]
    public async Task Jwt_mint_without_a_signing_key_says_which_setting_to_set()
    {
        var run = await CommandRun.Of("jwt", "mint", "demo", "alice");

        Assert.Equal(OperatorCommands.UsageError, run.Code);
        Assert.Contains("Auth:Jwt:SigningKey", run.Error);
    }

    [Fact]
    public void Settings_are_told_from_words_wherever_they_stand()
    {
        var (words, settings) = OperatorCommands.SplitSettings(
            ["--Orleans:Mode", "Client", "token", "--Urls=http://x", "create", "demo", "--help", "ci", "--Auth:Jwt:SigningKey", "--", "-h"],
            new HashSet<string> { "--help", "-h" });

        Assert.Equal(["token", "create", "demo", "--help", "ci", "--", "-h"], words);
        Assert.Equal(["--Orleans:Mode", "Client", "--Urls=http://x", "--Auth:Jwt:SigningKey"], settings);
    }

    [Fact]
    public async Task The_built_executable_prints_help_and_exits_without_binding_its_port()
    {
        var port = TestBackends.FreePort();
        var data = Path.Combine(TestBackends.NewTempDirectory(), "never-made");
        var start = new ProcessStartInfo("dotnet", [ServiceProcess.ApiAssembly, "--help", $"--Urls=http://127.0.0.1:{port}", $"--Storage:DataDirectory={data}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();

        // A server would never exit on its own; the deadline only bounds a broken build's wait.
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"`Credentials.Api --help` was still running after 2 minutes: {await error}");
        }

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("Usage:", await output);
        Assert.DoesNotContain("Now listening", await output);
        Assert.Equal("", await error);
        Assert.False(Directory.Exists(data));
    }
}
