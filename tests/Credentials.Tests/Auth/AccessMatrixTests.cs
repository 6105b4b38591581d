using System.Net;
using System.Net.Http.Json;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Auth;

/// <summary>
/// The contract's access matrix, table-driven: every caller kind × every endpoint, on the caller's
/// own org and on another, for the student's own user and another → the one expected status.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class AccessMatrixTests(SqliteApiFixture fixture)
{
    public enum Caller
    {
        Anonymous,
        UnknownToken,
        SuperAdmin,
        OrgTokenOwnOrg,
        OrgTokenOtherOrg,
        AdminJwtOwnOrg,
        AdminJwtOtherOrg,
        StudentOwnUser,
        StudentOtherUser,
        StudentOtherOrg,
    }

    public enum Endpoint
    {
        ListIssuers,
        CreateIssuer,
        GetIssuer,
        ReplaceIssuer,
        PatchIssuer,
        DeleteIssuer,
        GetPlatform,
        ListTokens,
        CreateToken,
        RevokeToken,
        CreatePlatform,
        ListPlatforms,
        SearchImages,
        UploadImage,
        GetImage,
        DeleteImage,
    }

    private const string Student = "alice";

    /// <summary>What an allowed caller gets from each endpoint on an org that exists.</summary>
    private static readonly Dictionary<Endpoint, HttpStatusCode> Allowed = new()
    {
        [Endpoint.ListIssuers] = HttpStatusCode.OK,
        [Endpoint.CreateIssuer] = HttpStatusCode.OK,
        [Endpoint.GetIssuer] = HttpStatusCode.OK,
        [Endpoint.ReplaceIssuer] = HttpStatusCode.OK,
        [Endpoint.PatchIssuer] = HttpStatusCode.OK,
        [Endpoint.DeleteIssuer] = HttpStatusCode.OK,
        [Endpoint.GetPlatform] = HttpStatusCode.OK,
        [Endpoint.ListTokens] = HttpStatusCode.OK,
        [Endpoint.CreateToken] = HttpStatusCode.Created,
        [Endpoint.RevokeToken] = HttpStatusCode.NoContent,
        [Endpoint.CreatePlatform] = HttpStatusCode.Created,
        [Endpoint.ListPlatforms] = HttpStatusCode.OK,
        [Endpoint.SearchImages] = HttpStatusCode.OK,
        [Endpoint.UploadImage] = HttpStatusCode.OK,
        [Endpoint.GetImage] = HttpStatusCode.OK,
        [Endpoint.DeleteImage] = HttpStatusCode.NoContent,
    };

    private static readonly Endpoint[] StudentMayUse =
        [Endpoint.ListIssuers, Endpoint.CreateIssuer, Endpoint.GetIssuer, Endpoint.SearchImages, Endpoint.UploadImage, Endpoint.GetImage];

    /// <summary>A 1×1 PNG.</summary>
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    private static MultipartFormDataContent Upload()
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Png);
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/png");
        form.Add(file, "image", "pixel.png");
        return form;
    }

    private static HttpStatusCode Expected(Caller caller, Endpoint endpoint) => caller switch
    {
        Caller.Anonymous or Caller.UnknownToken => HttpStatusCode.Unauthorized,
        Caller.SuperAdmin => Allowed[endpoint],
        _ when endpoint is Endpoint.CreatePlatform or Endpoint.ListPlatforms => HttpStatusCode.Forbidden,
        Caller.OrgTokenOwnOrg or Caller.AdminJwtOwnOrg => Allowed[endpoint],
        Caller.StudentOwnUser when StudentMayUse.Contains(endpoint) => Allowed[endpoint],
        _ => HttpStatusCode.Forbidden,
    };

    public static TheoryData<Caller, Endpoint, HttpStatusCode> Matrix()
    {
        var data = new TheoryData<Caller, Endpoint, HttpStatusCode>();
        foreach (var caller in Enum.GetValues<Caller>())
        {
            foreach (var endpoint in Enum.GetValues<Endpoint>()) data.Add(caller, endpoint, Expected(caller, endpoint));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Each_caller_gets_the_contracts_status_from_each_endpoint(Caller caller, Endpoint endpoint, HttpStatusCode expected)
    {
        var admin = fixture.Factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var other = await admin.CreatePlatformAsync();
        await admin.CreateIssuerAsync(org, new { name = "Existing", entityId = "existing" });
        await admin.CreateOrgTokenAsync(org, "revocable");
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/credentials/orgs/{org}/users/admin/images/", Upload())).StatusCode);

        var client = await ClientFor(caller, admin, org, other);
        var response = await Send(client, endpoint, org);

        Assert.Equal(expected, response.StatusCode);
        if ((int)expected >= 400)
        {
            await response.ProblemAsync();
            if (expected == HttpStatusCode.Unauthorized) Assert.NotEmpty(response.Headers.WwwAuthenticate);
        }
    }

    public static TheoryData<Caller, HttpStatusCode> MissingOrg() => new()
    {
        // Only a caller who would be allowed were the org to exist learns that it does not.
        { Caller.SuperAdmin, HttpStatusCode.NotFound },
        { Caller.StudentOwnUser, HttpStatusCode.NotFound },
        { Caller.AdminJwtOwnOrg, HttpStatusCode.NotFound },
        { Caller.OrgTokenOtherOrg, HttpStatusCode.Forbidden },
        { Caller.AdminJwtOtherOrg, HttpStatusCode.Forbidden },
        { Caller.StudentOtherUser, HttpStatusCode.Forbidden },
        { Caller.Anonymous, HttpStatusCode.Unauthorized },
    };

    [Theory]
    [MemberData(nameof(MissingOrg))]
    public async Task A_missing_org_is_revealed_only_to_callers_who_could_use_it(Caller caller, HttpStatusCode expected)
    {
        var admin = fixture.Factory.AdminClient();
        var missing = TestRequests.NewOrg();
        var other = await admin.CreatePlatformAsync();
        var client = await ClientFor(caller, admin, missing, other);

        foreach (var endpoint in new[] { Endpoint.ListIssuers, Endpoint.CreateIssuer, Endpoint.GetIssuer, Endpoint.SearchImages, Endpoint.UploadImage, Endpoint.GetImage })
        {
            var response = await Send(client, endpoint, missing);
            Assert.Equal(expected, response.StatusCode);
            await response.ProblemAsync();
        }
    }

    [Fact]
    public async Task Media_is_public_while_the_image_records_are_not()
    {
        var admin = fixture.Factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var uploaded = await (await admin.PostAsync($"/api/credentials/orgs/{org}/users/admin/images/", Upload())).JsonAsync();
        var url = new Uri(uploaded["image"]!.GetValue<string>());

        var anonymous = fixture.Factory.ClientWith(null, null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(url.PathAndQuery)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/credentials/orgs/{org}/users/admin/images/1/")).StatusCode);
    }

    [Fact]
    public async Task A_student_is_refused_changes_before_the_lookup_even_for_a_missing_issuer()
    {
        var admin = fixture.Factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var student = fixture.Factory.ClientWith("Bearer", Credentials.Jwt(org, Student));

        var response = await student.DeleteAsync(TestRequests.Issuer(org, "does-not-exist", Student));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private async Task<HttpClient> ClientFor(Caller caller, HttpClient admin, string org, string other)
    {
        var factory = fixture.Factory;
        return caller switch
        {
            Caller.Anonymous => factory.ClientWith(null, null),
            Caller.UnknownToken => factory.ClientWith("Api-Token", "cro_" + org + ".not-a-real-secret"),
            Caller.SuperAdmin => admin,
            Caller.OrgTokenOwnOrg => factory.ClientWith("Api-Token", await admin.CreateOrgTokenAsync(org)),
            Caller.OrgTokenOtherOrg => factory.ClientWith("Api-Key", await admin.CreateOrgTokenAsync(other)),
            Caller.AdminJwtOwnOrg => factory.ClientWith("Bearer", Credentials.Jwt(org, "boss", "admin")),
            Caller.AdminJwtOtherOrg => factory.ClientWith("Bearer", Credentials.Jwt(other, "boss", "admin")),
            Caller.StudentOwnUser => factory.ClientWith("Bearer", Credentials.Jwt(org, Student)),
            Caller.StudentOtherUser => factory.ClientWith("Bearer", Credentials.Jwt(org, "mallory", "student")),
            Caller.StudentOtherOrg => factory.ClientWith("Bearer", Credentials.Jwt(other, Student)),
            _ => throw new ArgumentOutOfRangeException(nameof(caller)),
        };
    }

    private static Task<HttpResponseMessage> Send(HttpClient client, Endpoint endpoint, string org)
    {
        var issuers = TestRequests.Issuers(org, Student);
        var images = $"/api/credentials/orgs/{org}/users/{Student}/images/";
        return endpoint switch
        {
            Endpoint.ListIssuers => client.GetAsync(issuers),
            Endpoint.CreateIssuer => client.PostAsJsonAsync(issuers, new { name = "New" }),
            Endpoint.GetIssuer => client.GetAsync(issuers + "existing/"),
            Endpoint.ReplaceIssuer => client.PutAsJsonAsync(issuers + "existing/", new { name = "Replaced" }),
            Endpoint.PatchIssuer => client.PatchAsJsonAsync(issuers + "existing/", new { name = "Patched" }),
            Endpoint.DeleteIssuer => client.DeleteAsync(issuers + "existing/"),
            Endpoint.GetPlatform => client.GetAsync($"/api/platforms/{org}/"),
            Endpoint.ListTokens => client.GetAsync($"/api/platforms/{org}/tokens/"),
            Endpoint.CreateToken => client.PostAsJsonAsync($"/api/platforms/{org}/tokens/", new { name = "another" }),
            Endpoint.RevokeToken => client.DeleteAsync($"/api/platforms/{org}/tokens/revocable/"),
            Endpoint.CreatePlatform => client.PostAsJsonAsync("/api/platforms/", new { key = TestRequests.NewOrg() }),
            Endpoint.ListPlatforms => client.GetAsync("/api/platforms/?limit=1"),
            Endpoint.SearchImages => client.GetAsync(images + "?query="),
            Endpoint.UploadImage => client.PostAsync(images, Upload()),
            Endpoint.GetImage => client.GetAsync(images + "1/"),
            Endpoint.DeleteImage => client.DeleteAsync(images + "1/"),
            _ => throw new ArgumentOutOfRangeException(nameof(endpoint)),
        };
    }
}
