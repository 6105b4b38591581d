using Credentials.Api.Apis;
using Credentials.Api.Commands;
using Credentials.Api.Extensions;

if (await OperatorCommands.RunAsync(args) is { } exitCode) return exitCode;

// Settings files come from beside the binary; relative paths in settings (./data) from where you run it.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddCredentialsApi();

var app = builder.Build();
app.UseCredentialsPipeline();

app.MapHealthApi();
app.MapPlatformsApi();
app.MapTokensApi();
app.MapIssuersApi();
app.MapImagesApi();
app.MapEventsApi();
app.MapWebhooksApi();
app.MapMediaApi();
app.MapOpenBadgesApi();
app.MapRenditionsApi();

await app.RunAsync();
return 0;

/// <summary>Exposed for WebApplicationFactory in the tests.</summary>
public partial class Program;
