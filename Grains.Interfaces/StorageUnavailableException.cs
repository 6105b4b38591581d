namespace Credentials.Grains;

/// <summary>
/// A write could not be made durable (the database is unreachable or refused it). Nothing was
/// acknowledged; the API answers 503 with Retry-After and the client may retry.
/// </summary>
[GenerateSerializer, Alias("credentials.storage-unavailable.v1")]
public sealed class StorageUnavailableException : Exception
{
    public StorageUnavailableException() : base("The state store did not accept the write; retry later.") { }
    public StorageUnavailableException(string message) : base(message) { }
    public StorageUnavailableException(string message, Exception inner) : base(message, inner) { }
}
