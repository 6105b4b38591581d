using System.Net;
using Credentials.Grains;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Auth;

/// <summary>
/// B6: work before authentication is bounded. A credential is checked for shape and its org looked
/// up in the org directory before any org grain is asked, and an org grain activated for an org
/// that does not exist goes away again.
/// </summary>
public sealed class PreAuthenticationTests(ProbedServiceFixture fixture) : IClassFixture<ProbedServiceFixture>
{
    private readonly ProbedService _service = fixture.Service;

    private static readonly string Secret = new('A', 43);

    public static TheoryData<string, string> MisshapenTokens() => new()
    {
        { "prefix only", "cro_" },
        { "no org", "cro_." + Secret },
        { "no secret", "cro_acme." },
        { "secret one short", "cro_acme." + Secret[..42] },
        { "secret one long", "cro_acme." + Secret + "A" },
        { "secret outside the alphabet", "cro_acme." + Secret[..42] + "+" },
        { "a dot in the org", "cro_ac.me." + Secret },
        { "upper-case org", "cro_Acme." + Secret },
        { "org starting with a dash", "cro_-acme." + Secret },
        { "org of 65 characters", "cro_" + new string('a', 65) + "." + Secret },
        { "another prefix", "abc_acme." + Secret },
        { "over 512 characters", "cro_acme." + new string('A', 600) },
    };

    [Theory]
    [MemberData(nameof(MisshapenTokens))]
    public async Task A_token_not_shaped_like_an_org_token_is_refused_before_any_grain_is_asked(string why, string token)
    {
        var client = _service.Client("Api-Token", token);
        _ = await _service.Admin().GetAsync("/healthz"); // the host is up before counting
        var before = _service.Calls.ToCredentialGrains;

        var response = await client.GetAsync(TestRequests.Issuers("acme"));

        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, why);
        await response.ProblemAsync();
        Assert.Equal(before, _service.Calls.ToCredentialGrains);
    }

    [Fact]
    public async Task A_well_shaped_token_naming_an_org_that_does_not_exist_activates_no_org_grain()
    {
        await _service.Admin().CreatePlatformAsync(); // the directory is not empty
        var missing = TestRequests.NewOrg();

        foreach (var scheme in new[] { "Api-Token", "Api-Key" })
        {
            var response = await _service.Client(scheme, $"cro_{missing}.{Secret}").GetAsync(TestRequests.Issuers(missing));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            await response.ProblemAsync();
        }

        Assert.Equal(0, _service.Calls.To<OrgGrain>(missing));
        Assert.Equal(0, await _service.ActivationsOfAsync(missing));
    }

    [Fact]
    public async Task A_wrong_secret_for_a_real_org_is_refused_and_the_real_token_still_works()
    {
        var admin = _service.Admin();
        var org = await admin.CreatePlatformAsync();
        var token = await admin.CreateOrgTokenAsync(org);

        Assert.Equal(HttpStatusCode.Unauthorized, (await _service.Client("Api-Token", $"cro_{org}.{Secret}").GetAsync(TestRequests.Issuers(org))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _service.Client("Api-Token", token).GetAsync(TestRequests.Issuers(org))).StatusCode);
    }

    [Fact]
    public async Task An_org_grain_activated_for_a_missing_org_deactivates_soon()
    {
        var missing = TestRequests.NewOrg();
        // The super-admin and user tokens are checked without the directory, so these reach the grain.
        Assert.Equal(HttpStatusCode.NotFound, (await _service.Admin().GetAsync($"/api/platforms/{missing}/")).StatusCode);
        var user = _service.Client("Bearer", Credentials.Jwt(missing, "alice"));
        Assert.Equal(HttpStatusCode.NotFound, (await user.GetAsync(TestRequests.Issuers(missing, "alice"))).StatusCode);
        Assert.True(_service.Calls.To<OrgGrain>(missing) > 0);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (await _service.ActivationsOfAsync(missing) > 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal(0, await _service.ActivationsOfAsync(missing));
    }
}
