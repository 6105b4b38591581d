using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Credentials.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Credentials.Tests.Auth;

/// <summary>Makes the credentials the contract knows: org tokens and user JWTs, good and bad.</summary>
public static class Credentials
{
    public static async Task<string> CreateOrgTokenAsync(this HttpClient admin, string org, string? name = null)
    {
        var response = await admin.PostAsJsonAsync($"/api/platforms/{org}/tokens/", new { name = name ?? "t-" + Guid.NewGuid().ToString("N")[..8] });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var token = (await response.JsonAsync())["token"]!.GetValue<string>();
        Assert.StartsWith($"cro_{org}.", token);
        return token;
    }

    /// <summary>An HS256 user token; pass <paramref name="claims"/> to add or override any claim.</summary>
    public static string Jwt(
        string org, string sub, string? role = null, TimeSpan? expiresIn = null, string key = ApiFactory.JwtSigningKey,
        IDictionary<string, object>? claims = null, bool withExpiry = true)
    {
        var now = DateTime.UtcNow;
        var all = new Dictionary<string, object> { ["sub"] = sub, ["org"] = org };
        if (role is not null) all["role"] = role;
        foreach (var (name, value) in claims ?? new Dictionary<string, object>()) all[name] = value;
        var expires = now + (expiresIn ?? TimeSpan.FromMinutes(10));
        var descriptor = new SecurityTokenDescriptor
        {
            Claims = all,
            IssuedAt = expires < now ? expires.AddMinutes(-5) : now,
            NotBefore = expires < now ? expires.AddMinutes(-5) : now,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        };
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        if (withExpiry) descriptor.Expires = expires;
        return handler.CreateToken(descriptor);
    }

    /// <summary>A token with <c>alg: none</c> and no signature, which must never be accepted.</summary>
    public static string UnsignedJwt(string org, string sub, string role = "admin")
    {
        static string B64(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var exp = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
        var payload = new JsonObject { ["sub"] = sub, ["org"] = org, ["role"] = role, ["exp"] = exp };
        return B64("""{"alg":"none","typ":"JWT"}""") + "." + B64(payload.ToJsonString()) + ".";
    }
}
