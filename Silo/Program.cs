using Credentials.Grains.Hosting;

// A silo on its own, without the HTTP front end. Storage comes from the same settings as the
// embedded default (ConnectionStrings:PostgreSql switches to PostgreSQL).
var builder = Host.CreateApplicationBuilder(args);
var storage = CredentialsSiloExtensions.StorageFromConfiguration(builder.Configuration);
builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering(
        builder.Configuration.GetValue("Orleans:SiloPort", 11111),
        builder.Configuration.GetValue("Orleans:GatewayPort", 30000),
        serviceId: builder.Configuration.GetValue("Orleans:ServiceId", "credentials"),
        clusterId: builder.Configuration.GetValue("Orleans:ClusterId", "credentials"));
    silo.AddCredentialsStorage(storage);
});
builder.Build().Run();
