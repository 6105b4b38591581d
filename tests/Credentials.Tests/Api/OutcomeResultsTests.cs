using Credentials.Api.Http;
using Credentials.Grains;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Credentials.Tests.Api;

/// <summary>
/// The one mapping from grain outcomes to HTTP answers: every status the endpoint expects gets its
/// own answer, and one it does not expect is an error, never passed off as a 404.
/// </summary>
public sealed class OutcomeResultsTests
{
    private static Ok<string> Ok(string value) => TypedResults.Ok(value);
    private static ProblemHttpResult Missing() => Problems.NotFound("No such thing.");

    [Fact]
    public void Success_goes_to_the_handlers_result()
    {
        var result = OutcomeResults.Map(new Outcome<string>(OutcomeStatus.Ok, "x"), "acme", Ok, Missing);
        Assert.Equal("x", Assert.IsType<Ok<string>>(result.Result).Value);
    }

    [Fact]
    public void Missing_org_and_missing_item_are_different_404s()
    {
        var org = Assert.IsType<ProblemHttpResult>(OutcomeResults.Map(Outcome<string>.OrgNotFound, "acme", Ok, Missing).Result);
        Assert.Equal((404, "Platform 'acme' does not exist."), (org.StatusCode, org.ProblemDetails.Detail));
        var item = Assert.IsType<ProblemHttpResult>(OutcomeResults.Map(Outcome<string>.NotFound, "acme", Ok, Missing).Result);
        Assert.Equal((404, "No such thing."), (item.StatusCode, item.ProblemDetails.Detail));
    }

    [Fact]
    public void Writes_answer_invalid_with_the_field_errors_and_quota_with_409()
    {
        var invalid = OutcomeResults.MapWrite(Outcome<string>.Invalid("name", "Too long."), "acme", Ok);
        Assert.Equal(["Too long."], Assert.IsType<ValidationProblem>(invalid.Result).ProblemDetails.Errors["name"]);
        var quota = OutcomeResults.MapWrite(Outcome<string>.QuotaExceeded("Image bytes limit."), "acme", Ok);
        var problem = Assert.IsType<ProblemHttpResult>(quota.Result);
        Assert.Equal((409, "urn:credentials:quota-exceeded"), (problem.StatusCode, problem.ProblemDetails.Type));
    }

    [Theory]
    [InlineData(OutcomeStatus.Invalid)] // a read has no input to be invalid
    [InlineData(OutcomeStatus.NotFound)] // this call cannot miss an item: no 404 was given
    [InlineData(OutcomeStatus.BlobMissing)] // the upload protocol's to handle, never an answer
    [InlineData((OutcomeStatus)99)] // a status added later and not mapped
    public void An_unexpected_status_throws_instead_of_answering_404(OutcomeStatus status)
    {
        var outcome = new Outcome<string>(status);
        var thrown = Assert.Throws<UnexpectedOutcomeException>(() => OutcomeResults.Map(outcome, "acme", Ok));
        Assert.Equal(status, thrown.Status);
        if (status != OutcomeStatus.Invalid)
        {
            Assert.Throws<UnexpectedOutcomeException>(() => OutcomeResults.MapWrite(outcome, "acme", Ok));
        }
    }
}
