using System.Security.Cryptography;
using System.Text;
using Credentials.Api.Extensions;
using Credentials.Grains;
using Credentials.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Auth;

/// <summary>
/// The platform super-admin token. Only its SHA-256 is held, in memory and on disk; a presented
/// token is hashed and compared in constant time. Tokens are 256-bit random values, so a fast
/// hash is enough: there is nothing to brute-force.
/// </summary>
/// <remarks>
/// With no <c>Auth:AdminToken</c> configured, the first start generates a token, keeps its hash
/// in the data folder (owner-only) and prints the token once; later starts reuse the hash.
/// Delete <c>admin-token.sha256</c> to have a new one made.
/// </remarks>
public sealed class AdminToken
{
    public const string Prefix = "cro_admin_";
    public const string HashFileName = "admin-token.sha256";
    private readonly byte[] _hash;
    private string? _generated;

    public AdminToken(IOptions<AuthOptions> options, StorageSettings storage)
    {
        if (options.Value.AdminToken is { Length: > 0 } configured)
        {
            _hash = ApiTokens.Hash(configured);
            return;
        }

        var directory = storage.DataDirectory;
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, HashFileName);
        if (File.Exists(path))
        {
            _hash = ReadHash(path);
            return;
        }

        _generated = Prefix + ApiTokens.RandomBase64Url(32);
        _hash = ApiTokens.Hash(_generated);
        // Written whole under another name, then moved into place: a crash never leaves a half file.
        var temporary = path + "." + ApiTokens.RandomBase64Url(6) + ".tmp";
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new FileStream(temporary, fileOptions))
        {
            file.Write(Encoding.ASCII.GetBytes(Convert.ToHexString(_hash)));
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: false);
    }

    /// <summary>The stored hash; a file that is not one (cut short, edited) stops the start-up with its path named.</summary>
    private static byte[] ReadHash(string path)
    {
        var text = File.ReadAllText(path).Trim();
        if (text.Length != 64 || !text.All(char.IsAsciiHexDigit))
        {
            throw new InvalidOperationException(
                $"{path} does not hold a super-admin token's SHA-256 (64 hex digits). Delete it to have a new token generated at the next start, or set Auth:AdminToken.");
        }
        return Convert.FromHexString(text);
    }

    public bool Matches(ReadOnlySpan<byte> presentedHash) => CryptographicOperations.FixedTimeEquals(presentedHash, _hash);

    /// <summary>Prints a generated token once, to the console (never to the logs).</summary>
    public void AnnounceIfGenerated(ICollection<string> urls)
    {
        if (_generated is null) return;
        var url = urls.FirstOrDefault() ?? "http://localhost:5080";
        Console.WriteLine($$"""

            A super-admin token was generated for this data folder. It is shown only now; keep it safe:

                {{_generated}}

            Try it:

                curl -X POST {{url}}/api/platforms/ -H 'Authorization: Api-Token {{_generated}}' -H 'Content-Type: application/json' -d '{"key":"demo"}'

            """);
        _generated = null;
    }
}
