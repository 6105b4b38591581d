using System.Net;
using Credentials.Api.Commands;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Commands;

/// <summary>What a command printed and returned.</summary>
public sealed record CommandRun(int? Code, string Output, string Error)
{
    public static async Task<CommandRun> Of(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var code = await OperatorCommands.RunAsync(args, output, error);
        return new CommandRun(code, output.ToString(), error.ToString());
    }
}

/// <summary>The Api executable's one-shot commands, run against a live embedded service.</summary>
[Collection(SerialCollection.Name)]
public sealed class OperatorCommandTests : IAsyncLifetime
{
    private readonly ApiFactory _factory = new();
    private int _gatewayPort;

    public Task InitializeAsync()
    {
        _gatewayPort = TestBackends.FreePort();
        _factory.Settings["Orleans:GatewayPort"] = _gatewayPort.ToString();
        _ = _factory.Server;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    /// <summary>Runs a command with the settings that reach this service: before the words, as an operator may put them too.</summary>
    private Task<CommandRun> Run(params string[] words) => CommandRun.Of(
    [
        $"--Orleans:GatewayPort={_gatewayPort}",
        "--Orleans:ServiceId", _factory.ServiceId,
        .. words,
        $"--Orleans:ClusterId={_factory.ServiceId}",
        $"--Auth:Jwt:SigningKey={ApiFactory.JwtSigningKey}",
    ]);

    [Fact]
    public async Task An_operator_creates_a_platform_and_a_token_that_the_running_service_accepts_then_revokes_it()
    {
        var org = TestRequests.NewOrg();
        Assert.Equal(0, (await Run("platform", "create", org, "Made by hand")).Code);

        var created = await Run("token", "create", org, "ops");
        Assert.Equal(0, created.Code);
        var token = created.Output.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Single(w => w.StartsWith("cro_", StringComparison.Ordinal));
        var client = _factory.ClientWith("Api-Token", token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/platforms/{org}/")).StatusCode);

        Assert.Equal(0, (await Run("token", "revoke", org, "ops")).Code);
        var again = await Run("token", "revoke", org, "ops");
        Assert.Equal((OperatorCommands.Failed, $"No live token named 'ops' in '{org}'."), (again.Code, again.Error.Trim()));
    }

    [Fact]
    public async Task Platform_list_prints_every_platform_in_key_order_as_the_http_list_does()
    {
        var admin = _factory.AdminClient();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        string[] keys = [$"z-{suffix}", $"a-{suffix}", $"m-{suffix}"];
        foreach (var key in keys) await admin.CreatePlatformAsync(key, $"Platform {key}");

        var run = await Run("platform", "list");

        Assert.Equal(0, run.Code);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToArray();
        var http = (await admin.GetOkObjectAsync("/api/platforms/?limit=1000"))["results"]!.AsArray();
        Assert.Equal(
            http.Select(p => $"{p!["key"]}\t{p["created"]}\t{p["name"]}"),
            lines.Select(l => string.Join('\t', l)));
        Assert.Equal(keys.Order(StringComparer.Ordinal), lines.Select(l => l[0]).Where(k => k.EndsWith(suffix, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Platform_show_prints_one_platform_and_fails_for_an_unknown_one()
    {
        var org = TestRequests.NewOrg();
        await _factory.AdminClient().CreatePlatformAsync(org, "Shown Academy");
        var created = (await _factory.AdminClient().GetOkObjectAsync($"/api/platforms/{org}/"))["created"]!.GetValue<string>();

        var shown = await Run("platform", "show", org);
        Assert.Equal(0, shown.Code);
        Assert.Equal($"key:     {org}\nname:    Shown Academy\ncreated: {created}\n", shown.Output);

        var missing = TestRequests.NewOrg();
        var unknown = await Run("platform", "show", missing);
        Assert.Equal((OperatorCommands.Failed, "", $"No platform '{missing}'."), (unknown.Code, unknown.Output, unknown.Error.Trim()));
    }

    [Fact]
    public async Task Token_list_prints_names_and_creation_times_and_never_a_secret()
    {
        var admin = _factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var first = await global::Credentials.Tests.Auth.Credentials.CreateOrgTokenAsync(admin, org, "first");
        var second = await global::Credentials.Tests.Auth.Credentials.CreateOrgTokenAsync(admin, org, "second");
        var http = (await admin.GetAsync($"/api/platforms/{org}/tokens/"));
        var listed = (await http.JsonAsync()).AsArray().Select(t => $"{t!["name"]}\t{t["created"]}");

        var run = await Run("token", "list", org);

        Assert.Equal(0, run.Code);
        Assert.Equal(listed, run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        foreach (var secret in new[] { first, second }) Assert.DoesNotContain(secret.Split('.')[1], run.Output);
        Assert.Equal(OperatorCommands.Failed, (await Run("token", "list", TestRequests.NewOrg())).Code);
    }

    [Fact]
    public async Task A_minted_user_token_is_accepted_for_its_org_and_user()
    {
        var org = await _factory.AdminClient().CreatePlatformAsync();
        var run = await Run("jwt", "mint", org, "alice", "student", "5");
        Assert.Equal(0, run.Code);

        var client = _factory.ClientWith("Bearer", run.Output.Trim());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(TestRequests.Issuers(org, "alice"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync(TestRequests.Issuers(org, "bob"))).StatusCode);
    }

    [Fact]
    public async Task A_command_that_reaches_no_cluster_says_so_and_exits_3()
    {
        var run = await CommandRun.Of("platform", "list", $"--Orleans:GatewayPort={TestBackends.FreePort()}", "--Orleans:ServiceId=nobody-here");

        Assert.Equal(OperatorCommands.Unreachable, run.Code);
        Assert.Contains("Could not reach the service's cluster", run.Error);
        Assert.Equal("", run.Output);
    }
}
