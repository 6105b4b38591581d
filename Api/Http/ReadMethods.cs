namespace Credentials.Api.Http;

/// <summary>The methods of the endpoints that answer HEAD as GET (media, renditions, Open Badges documents, probes).</summary>
public static class ReadMethods
{
    public static readonly IReadOnlyList<string> GetAndHead = [HttpMethods.Get, HttpMethods.Head];
}
