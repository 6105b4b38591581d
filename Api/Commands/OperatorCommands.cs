using System.Globalization;
using System.Security.Claims;
using System.Text;
using Credentials.Api.Extensions;
using Credentials.Grains;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Credentials.Api.Commands;

/// <summary>
/// One-shot commands for operators, run by the Api executable instead of serving:
/// <code>
/// dotnet run --project Api -- platform create &lt;key&gt; [name]
/// dotnet run --project Api -- token create &lt;org&gt; &lt;name&gt;
/// dotnet run --project Api -- token revoke &lt;org&gt; &lt;name&gt;
/// dotnet run --project Api -- jwt mint &lt;org&gt; &lt;user_id&gt; [admin|student] [minutes]
/// dotnet run --project Api -- migrate [--Storage:MigrationConnectionString=…]
/// </code>
/// Platform and token commands join the running service's cluster as an Orleans client (the
/// embedded service's gateway, or the cluster's), so the service sees the change at once. Settings
/// (<c>--Orleans:GatewayPort=…</c>, <c>--Auth:Jwt:SigningKey=…</c>) follow the arguments.
/// </summary>
public static class OperatorCommands
{
    private static readonly string[] Verbs = ["platform", "token", "jwt", "migrate"];

    public static bool IsCommand(string[] args) => args.Length > 0 && Verbs.Contains(args[0]);

    public static async Task<int> RunAsync(string[] args)
    {
        var words = args.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        var settings = args.Skip(words.Length).ToArray();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = settings,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true);

        try
        {
            return words switch
            {
                ["migrate"] => await MigrateCommand.RunAsync(builder.Configuration, Console.Out, CancellationToken.None),
                ["jwt", "mint", var org, var user, ..] => MintJwt(builder.Configuration, org, user, words.ElementAtOrDefault(4), words.ElementAtOrDefault(5)),
                ["platform", "create", var key, ..] => await WithCluster(builder, async grains =>
                {
                    var outcome = await grains.GetGrain<IOrgGrain>(key).CreatePlatform(words.ElementAtOrDefault(3));
                    return Report(outcome, p => $"Created platform '{p.Key}' ({p.Name}).");
                }),
                ["token", "create", var org, var name] => await WithCluster(builder, async grains =>
                {
                    var outcome = await grains.GetGrain<IOrgGrain>(org).CreateToken(name);
                    return Report(outcome, t => $"Created token '{t.Name}' for '{org}'. It is shown only now:\n\n    {t.Token}\n");
                }),
                ["token", "revoke", var org, var name] => await WithCluster(builder, async grains =>
                {
                    var outcome = await grains.GetGrain<IOrgGrain>(org).RevokeToken(name);
                    return Report(outcome, _ => $"Revoked token '{name}' of '{org}'.");
                }),
                _ => Usage(),
            };
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException)
        {
            Console.Error.WriteLine(ex.Message);
            return 1;
        }
    }

    private static async Task<int> WithCluster(HostApplicationBuilder builder, Func<IGrainFactory, Task<int>> action)
    {
        builder.UseOrleansClient(client => OrleansSetup.ConfigureClient(client, builder.Configuration));
        using var host = builder.Build();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await host.StartAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Console.Error.WriteLine("Could not reach the service's cluster. Is `dotnet run --project Api` (or the cluster) running, "
                + "with the same Orleans settings? " + ex.Message);
            return 2;
        }
        var code = await action(host.Services.GetRequiredService<IGrainFactory>());
        await host.StopAsync();
        return code;
    }

    private static int Report<T>(Outcome<T> outcome, Func<T, string> success)
    {
        if (outcome.Succeeded)
        {
            Console.WriteLine(success(outcome.Value!));
            return 0;
        }
        Console.Error.WriteLine(outcome.Status switch
        {
            OutcomeStatus.OrgNotFound => "No such platform.",
            OutcomeStatus.NotFound => "Not found.",
            _ => string.Join("; ", outcome.Errors?.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}")) ?? []),
        });
        return 1;
    }

    /// <summary>Signs a user token with <c>Auth:Jwt:SigningKey</c>, for local testing.</summary>
    private static int MintJwt(IConfiguration configuration, string org, string user, string? role, string? minutesText)
    {
        var jwt = configuration.GetSection("Auth:Jwt").Get<JwtOptions>() ?? new JwtOptions();
        if (string.IsNullOrEmpty(jwt.SigningKey) || Encoding.UTF8.GetByteCount(jwt.SigningKey) < 32)
        {
            Console.Error.WriteLine("Set Auth:Jwt:SigningKey (at least 32 bytes), e.g. --Auth:Jwt:SigningKey=... or Auth__Jwt__SigningKey.");
            return 1;
        }
        role ??= "student";
        if (role is not ("admin" or "student")) throw new ArgumentException("The role is admin or student.");
        var minutes = minutesText is null ? 60 : int.Parse(minutesText, CultureInfo.InvariantCulture);
        Console.WriteLine(JwtMinter.Mint(jwt, org, user, role, TimeSpan.FromMinutes(minutes)));
        return 0;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("""
            Usage:
              platform create <key> [name]
              token create <org> <name>
              token revoke <org> <name>
              jwt mint <org> <user_id> [admin|student] [minutes]
              migrate   (PostgreSQL schema; --Storage:MigrationConnectionString=... for a DDL role)
            Settings follow as --Section:Key=value (e.g. --Orleans:GatewayPort=30000).
            """);
        return 64;
    }
}

/// <summary>Creates HS256 user tokens in the shape the API accepts.</summary>
public static class JwtMinter
{
    public static string Mint(JwtOptions options, string org, string user, string role, TimeSpan lifetime)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", user), new Claim("org", org), new Claim("role", role)]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Issuer = options.Issuer,
            Audience = options.Audience,
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(options.SigningKey!)), SecurityAlgorithms.HmacSha256),
        });
    }
}
