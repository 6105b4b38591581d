using System.Net;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Auth;

/// <summary>B1: which user tokens are accepted. Every refusal is 401 with a challenge and problem+json.</summary>
[Collection(ApiCollection.Name)]
public sealed class JwtTests(SqliteApiFixture fixture)
{
    public static TheoryData<string, Func<string, string>> Refused() => new()
    {
        { "alg none", org => Credentials.UnsignedJwt(org, "alice") },
        { "expired beyond the 30 s skew", org => Credentials.Jwt(org, "alice", expiresIn: TimeSpan.FromSeconds(-90)) },
        { "signed with another key", org => Credentials.Jwt(org, "alice", key: "another-signing-key-0123456789abcdef-xyz") },
        { "without exp", org => Credentials.Jwt(org, "alice", withExpiry: false) },
        { "malformed", _ => "not.a.jwt" },
        { "garbage", _ => "%%%" },
        { "role with the wrong case", org => Credentials.Jwt(org, "alice", role: "Admin") },
        { "unknown role", org => Credentials.Jwt(org, "alice", role: "teacher") },
        { "empty role", org => Credentials.Jwt(org, "alice", role: "") },
        { "without org", org => Credentials.Jwt(org, "alice", claims: new Dictionary<string, object> { ["org"] = "" }) },
        // A claim that is not a string makes the token invalid, even one that would read as "admin".
        { "role as an array", org => Credentials.Jwt(org, "alice", claims: new Dictionary<string, object> { ["role"] = new[] { "admin" } }) },
        { "role as a number", org => Credentials.Jwt(org, "alice", claims: new Dictionary<string, object> { ["role"] = 1 }) },
        { "role as a boolean", org => Credentials.Jwt(org, "alice", claims: new Dictionary<string, object> { ["role"] = true }) },
        { "role as an object", org => Credentials.Jwt(org, "alice", claims: new Dictionary<string, object> { ["role"] = new Dictionary<string, object>() }) },
        { "org as an array", org => Credentials.Jwt(org, "alice", claims: new Dictionary<string, object> { ["org"] = new[] { org } }) },
        { "sub as a number", org => Credentials.Jwt(org, "alice", claims: new Dictionary<string, object> { ["sub"] = 42 }) },
        { "tampered payload", org => Tamper(Credentials.Jwt(org, "alice")) },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_bad_user_token_is_refused_with_401(string why, Func<string, string> token)
    {
        var org = await fixture.Factory.AdminClient().CreatePlatformAsync();
        var response = await fixture.Factory.ClientWith("Bearer", token(org)).GetAsync(TestRequests.Issuers(org, "alice"));

        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, why);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        await response.ProblemAsync();
    }

    [Fact]
    public async Task A_token_expired_within_the_30_second_skew_is_still_accepted()
    {
        var org = await fixture.Factory.AdminClient().CreatePlatformAsync();
        var token = Credentials.Jwt(org, "alice", expiresIn: TimeSpan.FromSeconds(-10));

        var response = await fixture.Factory.ClientWith("Bearer", token).GetAsync(TestRequests.Issuers(org, "alice"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_token_without_role_is_a_student_and_a_null_role_too()
    {
        var org = await fixture.Factory.AdminClient().CreatePlatformAsync();
        var noRole = fixture.Factory.ClientWith("Bearer", Credentials.Jwt(org, "alice"));
        var nullRole = fixture.Factory.ClientWith("Bearer", Credentials.Jwt(org, "alice", claims: new Dictionary<string, object> { ["role"] = null! }));

        foreach (var client in new[] { noRole, nullRole })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(TestRequests.Issuers(org, "alice"))).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync(TestRequests.Issuers(org, "bob"))).StatusCode);
        }
    }

    private static string Tamper(string jwt)
    {
        var parts = jwt.Split('.');
        var payload = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(parts[1]).Replace("\"alice\"", "\"admin\"");
        return parts[0] + "." + Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(payload) + "." + parts[2];
    }
}
