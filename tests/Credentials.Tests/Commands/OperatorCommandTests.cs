using System.Net;
using Credentials.Api.Commands;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Commands;

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

    private string[] Settings =>
    [
        $"--Orleans:GatewayPort={_gatewayPort}",
        $"--Orleans:ServiceId={_factory.ServiceId}",
        $"--Orleans:ClusterId={_factory.ServiceId}",
        $"--Auth:Jwt:SigningKey={ApiFactory.JwtSigningKey}",
    ];

    private async Task<(int Code, string Output)> Run(params string[] words)
    {
        var output = new StringWriter();
        var original = Console.Out;
        Console.SetOut(output);
        try
        {
            var code = await OperatorCommands.RunAsync([.. words, .. Settings]);
            return (code, output.ToString());
        }
        finally
        {
            Console.SetOut(original);
        }
    }

    [Fact]
    public async Task An_operator_creates_a_platform_and_a_token_that_the_running_service_accepts_then_revokes_it()
    {
        var org = TestRequests.NewOrg();
        Assert.Equal(0, (await Run("platform", "create", org, "Made by hand")).Code);

        var (code, output) = await Run("token", "create", org, "ops");
        Assert.Equal(0, code);
        var token = output.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Single(w => w.StartsWith("cro_", StringComparison.Ordinal));
        var client = _factory.ClientWith("Api-Token", token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/platforms/{org}/")).StatusCode);

        Assert.Equal(0, (await Run("token", "revoke", org, "ops")).Code);
        Assert.Equal(1, (await Run("token", "revoke", org, "ops")).Code);
    }

    [Fact]
    public async Task A_minted_user_token_is_accepted_for_its_org_and_user()
    {
        var org = await _factory.AdminClient().CreatePlatformAsync();
        var (code, output) = await Run("jwt", "mint", org, "alice", "student", "5");
        Assert.Equal(0, code);

        var client = _factory.ClientWith("Bearer", output.Trim());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(TestRequests.Issuers(org, "alice"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync(TestRequests.Issuers(org, "bob"))).StatusCode);
    }

    [Fact]
    public async Task An_unknown_command_prints_usage_and_fails()
    {
        Assert.Equal(64, (await Run("platform", "explode")).Code);
    }
}
