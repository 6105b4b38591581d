using Credentials.Grains.Hosting;
using Credentials.Silo;
using Microsoft.AspNetCore.Builder;

// A silo on its own: grains and storage, no API. With ConnectionStrings:PostgreSql it keeps state in
// PostgreSQL and joins the cluster through the membership table there (Orleans:Clustering=AdoNet);
// without, it is a single localhost silo over SQLite. HTTP serves only /healthz and /readyz;
// the Orleans Dashboard (Dashboard:Enabled) has a loopback listener of its own.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var topology = Topology.ForSilo(builder.Configuration);
builder.UseOrleans(silo =>
{
    silo.UseCredentialsClustering(topology, builder.Configuration);
    silo.AddCredentialsStorage(topology);
    silo.AddCredentialsDashboard(builder.Configuration);
});
builder.AddCredentialsTelemetry("credentials-silo", jsonLogs: topology.InCluster);
builder.Services.AddSiloHealthChecks();

var app = builder.Build();
app.MapSiloHealth();
app.Run();
