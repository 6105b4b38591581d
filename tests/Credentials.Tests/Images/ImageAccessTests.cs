using System.Net;
using Credentials.Tests.Auth;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Images;

/// <summary>
/// B4 for images: a student may upload, search and read; deleting needs an admin, and a student is
/// refused before the lookup, so a missing id is a 403 too. Media needs no credentials at all.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class ImageAccessTests(SqliteApiFixture fixture)
{
    private const string Student = "alice";
    private readonly ApiFactory _factory = fixture.Factory;
    private readonly HttpClient _admin = fixture.Factory.AdminClient();

    private HttpClient StudentClient(string org, string user = Student) =>
        _factory.ClientWith("Bearer", Credentials.Tests.Auth.Credentials.Jwt(org, user));

    [Fact]
    public async Task A_student_may_upload_search_and_read_images_on_their_own_user_path()
    {
        var org = await _admin.CreatePlatformAsync();
        var student = StudentClient(org);

        var image = await student.UploadImageAsync(org, SampleImages.Png(), "mine.png", user: Student);
        var found = await student.SearchImagesAsync(org, "MINE", user: Student);
        var read = await student.GetOkObjectAsync(ImageRequests.Image(org, image.Id(), Student));

        Assert.Equal(image.ToJsonString(), Assert.Single(found).ToJsonString());
        Assert.Equal(image.ToJsonString(), read.ToJsonString());
    }

    [Fact]
    public async Task Images_belong_to_the_org_so_a_student_sees_images_others_uploaded()
    {
        var org = await _admin.CreatePlatformAsync();
        var byAdmin = await _admin.UploadImageAsync(org, SampleImages.Png(), "org logo.png");

        var found = await StudentClient(org).SearchImagesAsync(org, "", user: Student);

        Assert.Equal(byAdmin.Id(), Assert.Single(found).Id());
    }

    [Fact]
    public async Task A_student_may_not_delete_an_image_and_it_stays()
    {
        var org = await _admin.CreatePlatformAsync();
        var student = StudentClient(org);
        var image = await student.UploadImageAsync(org, SampleImages.Png(), user: Student);

        var response = await student.DeleteAsync(ImageRequests.Image(org, image.Id(), Student));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await response.ProblemAsync();
        Assert.Equal(HttpStatusCode.OK, (await _admin.GetAsync(ImageRequests.Image(org, image.Id()))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _factory.CreateClient().GetAsync(image.Url())).StatusCode);
    }

    [Fact]
    public async Task A_student_deleting_a_missing_image_gets_403_not_404()
    {
        var org = await _admin.CreatePlatformAsync();

        var response = await StudentClient(org).DeleteAsync(ImageRequests.Image(org, 987654, Student));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task An_admin_user_token_and_an_org_token_may_delete_images()
    {
        var org = await _admin.CreatePlatformAsync();
        var first = await _admin.UploadImageAsync(org, SampleImages.Png(seed: 1));
        var second = await _admin.UploadImageAsync(org, SampleImages.Png(seed: 2));
        var adminUser = _factory.ClientWith("Bearer", Credentials.Tests.Auth.Credentials.Jwt(org, "dean", role: "admin"));
        var orgToken = _factory.ClientWith("Api-Token", await _admin.CreateOrgTokenAsync(org));

        var byAdminUser = await adminUser.DeleteAsync(ImageRequests.Image(org, first.Id(), "dean"));
        var byOrgToken = await orgToken.DeleteAsync(ImageRequests.Image(org, second.Id(), "anyone"));

        Assert.Equal(HttpStatusCode.NoContent, byAdminUser.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, byOrgToken.StatusCode);
        Assert.Empty(await _admin.SearchImagesAsync(org, ""));
    }

    [Fact]
    public async Task A_student_of_another_org_or_user_path_is_refused_and_stores_nothing()
    {
        var org = await _admin.CreatePlatformAsync();
        var other = await _admin.CreatePlatformAsync();

        var otherUser = await StudentClient(org).PostAsync(ImageRequests.Images(org, "bob"), ImageRequests.Upload(SampleImages.Png()));
        var otherOrg = await StudentClient(other).PostAsync(ImageRequests.Images(org, Student), ImageRequests.Upload(SampleImages.Png()));

        Assert.Equal(HttpStatusCode.Forbidden, otherUser.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, otherOrg.StatusCode);
        Assert.Empty(await _admin.SearchImagesAsync(org, ""));
        Assert.Empty(ImageRequests.BlobFiles(_factory, org));
    }

    [Fact]
    public async Task Without_credentials_the_image_api_is_401_but_media_is_public()
    {
        var org = await _admin.CreatePlatformAsync();
        var image = await _admin.UploadImageAsync(org, SampleImages.Png());
        var anonymous = _factory.CreateClient();

        var upload = await anonymous.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(SampleImages.Png(seed: 9)));
        var search = await anonymous.GetAsync(ImageRequests.Search(org, ""));
        var media = await anonymous.GetAsync(image.Url());

        Assert.Equal(HttpStatusCode.Unauthorized, upload.StatusCode);
        Assert.NotEmpty(upload.Headers.WwwAuthenticate);
        Assert.Equal(HttpStatusCode.Unauthorized, search.StatusCode);
        Assert.Equal(HttpStatusCode.OK, media.StatusCode);
        Assert.Single(ImageRequests.BlobFiles(_factory, org));
    }
}
