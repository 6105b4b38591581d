using System.Security.Cryptography;
using System.Text;

namespace Credentials.Grains.Webhooks;

/// <summary>
/// A file holding a webhook secret key as base64 of 32 bytes (what <c>openssl rand -base64 32</c>
/// prints). A lone silo with no key configured generates one in its data directory
/// (<see cref="DefaultName"/>), owner-only, and reuses it at every start.
/// </summary>
public static class WebhookKeyFile
{
    public const string DefaultName = "webhook-secret.key";

    /// <summary>The key in <paramref name="path"/>; a clear error naming the file when it is missing or not a key.</summary>
    public static byte[] Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"The webhook secret key file '{path}' cannot be read: {ex.Message}", ex);
        }
        if (!WebhookSecrets.IsValidKey(text))
        {
            throw new InvalidOperationException($"The webhook secret key file '{path}' must hold the base64 of {WebhookSecrets.KeyBytes} bytes (e.g. `openssl rand -base64 32`).");
        }
        return Convert.FromBase64String(text);
    }

    /// <summary>
    /// The key in <paramref name="path"/>, generated first when the file does not exist: written
    /// to a temporary file (0600 on Unix) and moved into place only if the name is still free, so
    /// no reader ever sees a partial key and two silos starting at once end up with the same one.
    /// </summary>
    public static byte[] ReadOrCreate(string path)
    {
        if (File.Exists(path)) return Read(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var key = RandomNumberGenerator.GetBytes(WebhookSecrets.KeyBytes);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using (var file = new FileStream(temporary, options))
            {
                file.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(key) + "\n"));
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: false);
            return key;
        }
        catch (IOException) when (File.Exists(path))
        {
            return Read(path); // another process made it first
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
