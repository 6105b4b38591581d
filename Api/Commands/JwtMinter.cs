using System.Security.Claims;
using System.Text;
using Credentials.Api.Extensions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Credentials.Api.Commands;

/// <summary>Creates HS256 user tokens in the shape the API accepts.</summary>
public static class JwtMinter
{
    public static string Mint(JwtOptions options, string org, string user, string role, TimeSpan lifetime)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", user), new Claim("org", org), new Claim("role", role)]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Issuer = options.Issuer,
            Audience = options.Audience,
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(options.SigningKey!)), SecurityAlgorithms.HmacSha256),
        });
    }
}
