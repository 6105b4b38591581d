using Credentials.Grains;

namespace Credentials.Tests.Grains;

public sealed class OrgKeysTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("acme-university_2")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public void Lowercase_letters_digits_dash_and_underscore_up_to_64_are_org_keys(string key) =>
        Assert.True(OrgKeys.IsValid(key));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("-acme")]
    [InlineData("_acme")]
    [InlineData("Acme")]
    [InlineData("ac.me")]
    [InlineData("acme\n")]
    [InlineData("../acme")]
    [InlineData("a2345678901234567890123456789012345678901234567890123456789012345")]
    public void Anything_else_is_not_an_org_key(string? key) =>
        Assert.False(OrgKeys.IsValid(key));
}
