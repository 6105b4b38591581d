using Credentials.Api.Apis;
using Credentials.Api.Extensions;

// Settings files come from beside the binary; relative paths in settings (./data) from where you run it.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddCredentialsApi();

var app = builder.Build();
app.UseCredentialsPipeline();

app.MapHealthApi();
app.MapPlatformsApi();
app.MapIssuersApi();

app.Run();

/// <summary>Exposed for WebApplicationFactory in the tests.</summary>
public partial class Program;
