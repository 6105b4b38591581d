using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace Credentials.Grains.Blobs;

/// <summary>
/// Blobs as files under <c>{root}/{org}/{sha256}</c>: the embedded default. A put writes a
/// temporary file, flushes it to disk and renames it into place, so a reader never sees half a
/// blob and a crash leaves at most a stray temporary file.
/// </summary>
public sealed partial class FileBlobStore(string root) : IBlobStore
{
    [GeneratedRegex("^[0-9a-f]{64}\\z")]
    private static partial Regex Sha256();

    /// <summary>Keys become file names: anything but an org key and a hex SHA-256 is refused, never a path.</summary>
    private string PathOf(string org, string sha256)
    {
        if (!OrgKeys.IsValid(org)) throw new ArgumentException($"Not an org key: '{org}'.", nameof(org));
        if (!Sha256().IsMatch(sha256)) throw new ArgumentException($"Not a lower-case hex SHA-256: '{sha256}'.", nameof(sha256));
        return Path.Combine(root, org, sha256);
    }

    public async Task PutAsync(string org, string sha256, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var path = PathOf(org, sha256);
        if (File.Exists(path)) return;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
        {
            await file.WriteAsync(content, cancellationToken);
            file.Flush(flushToDisk: true);
        }
        try
        {
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Someone stored the same bytes meanwhile: theirs are ours.
            File.Delete(temporary);
        }
    }

    public async Task<byte[]?> GetAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        try
        {
            return await File.ReadAllBytesAsync(PathOf(org, sha256), cancellationToken);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public Task<Stream?> OpenReadAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        var path = PathOf(org, sha256);
        try
        {
            // Unbuffered: the caller's buffer is the only one. FileShare.Delete lets the grain delete
            // an unreferenced blob while a reader is still streaming it.
            Stream file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult<Stream?>(file);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageUnavailableException($"The blob store could not open {org}/{sha256}.", ex);
        }
    }

    public Task<bool> ExistsAsync(string org, string sha256, CancellationToken cancellationToken = default) =>
        Task.FromResult(File.Exists(PathOf(org, sha256)));

    public Task DeleteAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        try
        {
            File.Delete(PathOf(org, sha256));
        }
        catch (DirectoryNotFoundException)
        {
            // No folder for the org: the blob is not there either.
        }
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<(string Sha256, DateTimeOffset Stored)> ListAsync(string org, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var directory = Path.Combine(root, org);
        if (!Directory.Exists(directory)) yield break;
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            var name = Path.GetFileName(path);
            if (name.Length != 64) continue;
            yield return (name, File.GetLastWriteTimeUtc(path));
        }
        await Task.CompletedTask;
    }
}
