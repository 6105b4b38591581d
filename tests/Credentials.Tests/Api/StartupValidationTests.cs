using System.Net;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Api;

/// <summary>
/// Settings are checked when the service starts: a bad value stops it with a message that names
/// the setting (and never repeats a secret), instead of a service that misbehaves later.
/// </summary>
public sealed class StartupValidationTests
{
    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "Auth:AdminToken", "short-admin-token", "Auth:AdminToken must be at least 32 characters" },
        { "Auth:AdminToken", "0123456789abcdef0123456789abcde", "Auth:AdminToken must be at least 32 characters (it has 31)" },
        { "Auth:AdminToken", "REPLACE-ME-with-a-long-random-secret", "Auth:AdminToken is still the example's placeholder" },
        { "Auth:TokenCacheSeconds", "6", "TokenCacheSeconds" },
        { "Auth:Jwt:SigningKey", "too-short-key", "Auth:Jwt:SigningKey must be at least 32 bytes" },
        { "Orleans:Mode", "cluster", "Orleans:Mode 'cluster' is not known" },
        { "Orleans:SiloPort", "70000", "SiloPort" },
        { "Orleans:ResponseTimeoutSeconds", "0", "ResponseTimeoutSeconds" },
        { "Storage:ConnectionTimeoutSeconds", "0", "ConnectionTimeoutSeconds" },
        { "Api:MaxBodyBytes", "10", "MaxBodyBytes" },
        { "RateLimiting:PermitsPerSecond", "0", "PermitsPerSecond" },
        { "RateLimiting:AnonymousBurst", "-1", "AnonymousBurst" },
        { "Images:MaxFileBytes", "0", "MaxFileBytes" },
        { "Images:MaxSide", "70000", "MaxSide" },
        { "Images:InspectionTimeout", "00:00:00", "InspectionTimeout" },
        { "Limits:MaxReplyBytes", "0", "Limits:MaxReplyBytes between 1 and 67108864" },
        { "Limits:MaxReplyBytes", "100000000", "Limits:MaxReplyBytes between 1 and 67108864" },
        { "Limits:MaxOrgRecordBytes", "0", "Limits:MaxOrgRecordBytes" },
        { "Webhooks:SecretKey", "c2hvcnQta2V5", "Webhooks:SecretKey (when set) and each of Webhooks:PreviousSecretKeys the base64 of 32 bytes" },
        { "Webhooks:PreviousSecretKeys:0", "bm90LTMyLWJ5dGVz", "Webhooks:PreviousSecretKeys" },
        { "Webhooks:SecretKeyFile", "/nonexistent/webhook-secret.key", "/nonexistent/webhook-secret.key" },
    };

    [Theory, MemberData(nameof(BadSettings))]
    public async Task A_setting_out_of_its_range_stops_the_service_with_a_message_naming_it(string key, string value, string expected)
    {
        await using var factory = new ApiFactory();
        factory.Settings[key] = value;

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        var message = StartupFailures.Messages(error);
        Assert.Contains(expected, message);
        var secret = key.StartsWith("Auth:", StringComparison.Ordinal) || key is "Webhooks:SecretKey" || key.StartsWith("Webhooks:PreviousSecretKeys", StringComparison.Ordinal);
        if (secret) Assert.DoesNotContain(value, message);
    }

    [Fact]
    public async Task An_admin_token_of_exactly_32_characters_is_accepted()
    {
        const string token = "0123456789abcdef0123456789abcdef";
        await using var factory = new ApiFactory();
        factory.Settings["Auth:AdminToken"] = token;

        var response = await factory.ClientWith("Api-Token", token).GetAsync("/api/platforms/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
