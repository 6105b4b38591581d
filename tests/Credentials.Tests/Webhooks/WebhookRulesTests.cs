using System.Net;
using System.Security.Cryptography;
using System.Text;
using Credentials.Grains.Webhooks;

namespace Credentials.Tests.Webhooks;

/// <summary>The pieces of C5 that need no service: signatures, target addresses, secrets at rest, backoff.</summary>
public sealed class WebhookRulesTests
{
    [Fact]
    public void The_signature_matches_the_Standard_Webhooks_example()
    {
        // The example of the Standard Webhooks specification, computed independently (Python hmac).
        var key = WebhookSecrets.SigningKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

        var signature = WebhookSignature.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, Encoding.UTF8.GetBytes("""{"test": 2432232314}"""));

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.0.9")]
    [InlineData("10.0.0.1")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.0.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("100.127.255.255")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.251")]
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fc00::1")]
    [InlineData("fdff::1")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::127.0.0.1")]
    [InlineData("64:ff9b::a00:1")]
    public void Loopback_private_link_local_and_special_addresses_are_refused(string address) =>
        Assert.NotNull(TargetAddresses.Refusal(IPAddress.Parse(address)));

    [Theory]
    [InlineData("192.0.2.1")]
    [InlineData("8.8.8.8")]
    [InlineData("172.15.255.255")]
    [InlineData("172.32.0.1")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.1")]
    [InlineData("2001:db8::1")]
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void Public_addresses_are_permitted(string address) =>
        Assert.Null(TargetAddresses.Refusal(IPAddress.Parse(address)));

    [Fact]
    public void A_host_is_refused_when_any_of_its_addresses_is()
    {
        Assert.Contains("127.0.0.1", TargetAddresses.Refusal([IPAddress.Parse("8.8.8.8"), IPAddress.Loopback]));
        Assert.NotNull(TargetAddresses.Refusal([]));
    }

    [Fact]
    public void A_secret_is_stored_encrypted_and_needs_its_key()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var secret = WebhookSecrets.NewSecret();

        var stored = new WebhookSecrets(key).Protect(secret);

        Assert.DoesNotContain(secret["whsec_".Length..], stored);
        Assert.NotEqual(stored, new WebhookSecrets(key).Protect(secret)); // a fresh nonce each time
        Assert.Equal(secret, new WebhookSecrets(key).Unprotect(stored));
        Assert.Null(new WebhookSecrets(key).Reseal(stored));
        var error = Assert.ThrowsAny<CryptographicException>(() => new WebhookSecrets(RandomNumberGenerator.GetBytes(32)).Unprotect(stored));
        Assert.Contains("Webhooks:PreviousSecretKeys", error.Message);
        Assert.ThrowsAny<FormatException>(() => new WebhookSecrets(key).Unprotect("aesgcm:AAAA"));
    }

    [Fact]
    public void A_secret_stored_plain_by_an_earlier_release_is_read_and_resealed_under_the_key()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var secret = WebhookSecrets.NewSecret();
        var secrets = new WebhookSecrets(key);

        Assert.Equal(secret, secrets.Unprotect("plain:" + secret));
        var resealed = secrets.Reseal("plain:" + secret)!;

        Assert.StartsWith("aesgcm:", resealed);
        Assert.DoesNotContain(secret["whsec_".Length..], resealed);
        Assert.Equal(secret, new WebhookSecrets(key).Unprotect(resealed));
    }

    [Fact]
    public void After_a_rotation_secrets_sealed_under_a_previous_key_are_read_and_resealed_under_the_new_one()
    {
        var (old, current) = (RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        var secret = WebhookSecrets.NewSecret();
        var storedUnderOld = new WebhookSecrets(old).Protect(secret);
        var rotated = new WebhookSecrets(current, [old]);

        Assert.Equal(secret, rotated.Unprotect(storedUnderOld));
        var resealed = rotated.Reseal(storedUnderOld)!;

        Assert.Equal(secret, new WebhookSecrets(current).Unprotect(resealed));
        Assert.ThrowsAny<CryptographicException>(() => new WebhookSecrets(old).Unprotect(resealed));
        Assert.Null(rotated.Reseal(resealed));
    }

    [Fact]
    public void Key_settings_are_checked_the_configured_key_wins_and_a_cluster_silo_needs_one()
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        Assert.True(new WebhookOptions { SecretKey = key, PreviousSecretKeys = [key] }.IsValid);
        Assert.False(new WebhookOptions { SecretKey = "c2hvcnQ=" }.IsValid);
        Assert.False(new WebhookOptions { PreviousSecretKeys = ["not a key"] }.IsValid);
        Assert.False(new WebhookOptions { SecretKey = key, SecretKeyFile = "/run/key" }.IsValid);

        var error = Assert.Throws<InvalidOperationException>(() => WebhookSecrets.From(new WebhookOptions(), defaultKeyFile: null));
        Assert.Equal(WebhookOptions.MissingKeyMessage, error.Message);

        // A key configured after the generated one: the generated key still opens what it sealed.
        var file = Path.Combine(Credentials.Tests.Infrastructure.TestBackends.NewTempDirectory(), WebhookKeyFile.DefaultName);
        var generated = WebhookSecrets.From(new WebhookOptions(), file);
        var stored = generated.Protect(WebhookSecrets.NewSecret());
        var configured = WebhookSecrets.From(new WebhookOptions { SecretKey = key }, file);
        Assert.NotNull(configured.Reseal(stored));
        Assert.Equal(generated.Unprotect(stored), configured.Unprotect(stored));
    }

    [Fact]
    public void A_key_file_that_is_missing_or_not_a_key_is_refused_with_its_path()
    {
        var directory = Credentials.Tests.Infrastructure.TestBackends.NewTempDirectory();
        var missing = Path.Combine(directory, "missing.key");
        var bad = Path.Combine(directory, "bad.key");
        File.WriteAllText(bad, "not-base64\n");

        Assert.Contains(missing, Assert.Throws<InvalidOperationException>(() => WebhookKeyFile.Read(missing)).Message);
        Assert.Contains("base64 of 32 bytes", Assert.Throws<InvalidOperationException>(() => WebhookKeyFile.Read(bad)).Message);
        Assert.Throws<InvalidOperationException>(() => WebhookSecrets.From(new WebhookOptions { SecretKeyFile = missing }, defaultKeyFile: Path.Combine(directory, "default.key")));
        Assert.False(File.Exists(Path.Combine(directory, "default.key")), "a configured file that is missing is an error, not a reason to generate a key");
    }

    [Fact]
    public void Secrets_carry_at_least_24_random_bytes()
    {
        var secret = WebhookSecrets.NewSecret();
        Assert.StartsWith("whsec_", secret);
        Assert.True(WebhookSecrets.SigningKey(secret).Length >= 24);
        Assert.NotEqual(secret, WebhookSecrets.NewSecret());
    }

    [Fact]
    public void Retries_back_off_exponentially_up_to_the_cap_and_span_the_window()
    {
        var options = new WebhookOptions();

        Assert.Equal([5, 10, 20, 40, 80], Enumerable.Range(1, 5).Select(n => options.RetryDelay(n).TotalSeconds));
        Assert.Equal(TimeSpan.FromHours(1), options.RetryDelay(30));
        Assert.Equal(TimeSpan.FromHours(1), options.RetryDelay(int.MaxValue));
        Assert.True(options.RetryWindowHours >= 24);
    }
}
