using Credentials.Api.Auth;
using Credentials.Api.Extensions;
using Credentials.Grains;
using Credentials.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Credentials.Tests.Auth;

/// <summary>The generated super-admin token's hash file: written whole, reused, and refused when it is not a hash.</summary>
public sealed class AdminTokenFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("admin-token-").FullName;

    private AdminToken Start() => new(Options.Create(new AuthOptions()), new StorageSettings { DataDirectory = _directory });

    [Fact]
    public void A_generated_token_is_kept_as_its_hash_alone_and_the_next_start_accepts_the_same_token()
    {
        var first = Start();
        var announced = new StringWriter();
        var console = Console.Out;
        Console.SetOut(announced);
        try { first.AnnounceIfGenerated(["http://127.0.0.1:1"]); }
        finally { Console.SetOut(console); }
        var token = announced.ToString().Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).First(w => w.StartsWith(AdminToken.Prefix, StringComparison.Ordinal));

        Assert.Equal([AdminToken.HashFileName], Directory.GetFiles(_directory).Select(Path.GetFileName));
        var stored = File.ReadAllText(Path.Combine(_directory, AdminToken.HashFileName));
        Assert.DoesNotContain(token, stored);
        Assert.True(Start().Matches(ApiTokens.Hash(token)));
        Assert.False(Start().Matches(ApiTokens.Hash(token + "x")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0123abcd")]
    [InlineData("zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void A_hash_file_that_is_not_a_hash_stops_the_start_naming_it(string content)
    {
        File.WriteAllText(Path.Combine(_directory, AdminToken.HashFileName), content);

        var error = Assert.Throws<InvalidOperationException>(Start);

        Assert.Contains(AdminToken.HashFileName, error.Message);
        Assert.Contains("Delete it", error.Message);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
