using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using Credentials.Api.Contracts;
using Credentials.Api.Extensions;
using Credentials.Api.Http;
using Credentials.Grains;

namespace Credentials.Api.Commands;

/// <summary>
/// The Api executable's command line. Without a command it serves; with one it runs that command
/// once and exits:
/// <code>
/// Credentials.Api [settings]                                    serve HTTP (the default)
/// Credentials.Api platform list|create &lt;key&gt; [name]|show &lt;key&gt;
/// Credentials.Api token list &lt;org&gt;|create &lt;org&gt; &lt;name&gt;|revoke &lt;org&gt; &lt;name&gt;
/// Credentials.Api jwt mint &lt;org&gt; &lt;user_id&gt; [admin|student] [minutes]
/// Credentials.Api migrate
/// </code>
/// Every token <c>--Section:Key=value</c> (or <c>--Key value</c>) that is not one of the command
/// line's own options is a configuration setting, wherever it stands, as it is for the service.
/// Platform and token commands join the running service's cluster as an Orleans client (the
/// embedded service's gateway, or the cluster's), so the service sees a change at once.
/// </summary>
public static class OperatorCommands
{
    public const string HelpName = "Credentials.Api";

    /// <summary>The service refused the command or has nothing by that name.</summary>
    public const int Failed = 1;

    /// <summary>The command line is not one this program takes.</summary>
    public const int UsageError = 2;

    /// <summary>The service's cluster did not answer.</summary>
    public const int Unreachable = 3;

    /// <summary>Runs the command <paramref name="args"/> name and returns its exit code, or null when they ask for the service itself.</summary>
    public static async Task<int?> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        var run = new Run(output ?? Console.Out, error ?? Console.Error);
        var root = run.Root();
        (var words, run.Settings) = SplitSettings(args, OptionNames(root));
        var parsed = root.Parse(words, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Action is ParseErrorAction)
        {
            foreach (var problem in parsed.Errors) run.Error.WriteLine(problem.Message);
            run.Error.WriteLine($"Run '{CommandPath(parsed)} --help' for usage.");
            return UsageError;
        }
        var code = await parsed.InvokeAsync(new InvocationConfiguration { Output = run.Output, Error = run.Error }, cancellationToken);
        return run.Serve ? null : code;
    }

    /// <summary>
    /// Separates configuration settings from the words the parser reads: a <c>--name</c> token that
    /// is not an option of the command line is a setting, with the next token as its value unless
    /// it carries one (<c>--name=value</c>) or the next token is itself an option.
    /// </summary>
    public static (string[] Words, string[] Settings) SplitSettings(IReadOnlyList<string> args, IReadOnlySet<string> optionNames)
    {
        var words = new List<string>();
        var settings = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var token = args[i];
            if (token.Length <= 2 || !token.StartsWith("--", StringComparison.Ordinal) || optionNames.Contains(token.Split('=', 2)[0]))
            {
                words.Add(token);
                continue;
            }
            settings.Add(token);
            if (!token.Contains('=') && i + 1 < args.Count && !args[i + 1].StartsWith('-')) settings.Add(args[++i]);
        }
        return (words.ToArray(), settings.ToArray());
    }

    private static HashSet<string> OptionNames(Command command)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        void Collect(Command c)
        {
            foreach (var option in c.Options)
            {
                names.Add(option.Name);
                names.UnionWith(option.Aliases);
            }
            foreach (var sub in c.Subcommands) Collect(sub);
        }
        Collect(command);
        return names;
    }

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (SymbolResult? result = parsed.CommandResult; result is CommandResult command; result = command.Parent)
        {
            names.Add(command.Command is RootCommand ? HelpName : command.Command.Name);
        }
        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>One run of the command line: where it writes, its settings, and whether it asked to serve.</summary>
    private sealed class Run(TextWriter output, TextWriter error)
    {
        public TextWriter Output { get; } = output;
        public TextWriter Error { get; } = error;
        public string[] Settings { get; set; } = [];
        public bool Serve { get; private set; }

        public RootCommand Root()
        {
            var root = new RootCommand(
                "Credentials.Orleans API. Without a command it serves HTTP (embedded: a silo in this process; "
                + "--Orleans:Mode=Client: a client of a separate cluster). With a command it runs it once against the "
                + "running service and exits (0 done, 1 refused or not found, 2 usage error, 3 service unreachable). "
                + "Settings are passed as --Section:Key=value (or Section__Key environment variables), before or after the command.")
            {
                HelpName = HelpName,
            };
            root.SetAction(_ => Serve = true);
            root.Subcommands.Add(Platform());
            root.Subcommands.Add(Token());
            root.Subcommands.Add(Jwt());
            root.Subcommands.Add(Migrate());
            return root;
        }

        private Command Platform()
        {
            var list = new Command("list", "Print every platform, one a line in key order: key, created (UTC), name; tab-separated.");
            list.SetAction((_, ct) => WithCluster(async grains =>
            {
                var directory = grains.GetGrain<IOrgDirectoryGrain>(0);
                string? after = null;
                while (true)
                {
                    var page = await directory.ListPlatforms(0, Paging.MaxLimit, after);
                    foreach (var p in page.Items) Output.WriteLine($"{p.Key}\t{PlatformView.Timestamp(p.Created)}\t{p.Name}");
                    if (page.Items.Count == 0) return 0;
                    after = page.Items[^1].Key;
                }
            }, ct));

            var createKey = OrgArgument("key", "The new platform's key.");
            var createName = new Argument<string?>("name") { Description = "Its display name (default: the key).", Arity = ArgumentArity.ZeroOrOne };
            var create = new Command("create", "Create a platform.") { createKey, createName };
            create.SetAction((parsed, ct) => WithCluster(async grains =>
            {
                var key = parsed.GetRequiredValue(createKey);
                var outcome = await grains.GetOrgGrain(key).CreatePlatform(parsed.GetValue(createName));
                return Report(outcome, key, p => $"Created platform '{p.Key}' ({p.Name}).");
            }, ct));

            var showKey = OrgArgument("key", "The platform's key.");
            var show = new Command("show", "Print one platform: key, name and creation time.") { showKey };
            show.SetAction((parsed, ct) => WithCluster(async grains =>
            {
                var key = parsed.GetRequiredValue(showKey);
                var platform = await grains.GetOrgGrain(key).GetPlatform();
                if (platform is null) return NoPlatform(key);
                Output.WriteLine($"key:     {platform.Key}\nname:    {platform.Name}\ncreated: {PlatformView.Timestamp(platform.Created)}");
                return 0;
            }, ct));

            return new Command("platform", "Platforms (tenants): list, create, show.") { list, create, show };
        }

        private Command Token()
        {
            var listOrg = OrgArgument();
            var list = new Command("list", "Print a platform's live API tokens, one a line: name, created (UTC); never a secret.") { listOrg };
            list.SetAction((parsed, ct) => WithCluster(async grains =>
            {
                var org = parsed.GetRequiredValue(listOrg);
                var outcome = await grains.GetOrgGrain(org).ListTokens();
                return Report(outcome, org, tokens => string.Join('\n', tokens.Select(t => $"{t.Name}\t{PlatformView.Timestamp(t.Created)}")), quietWhenEmpty: true);
            }, ct));

            var createOrg = OrgArgument();
            var createName = new Argument<string>("name") { Description = "The token's name: 1 to 64 of letters, digits, '.', '_' and '-'." };
            var create = new Command("create", "Create an org API token and print its secret, the only time it is shown.") { createOrg, createName };
            create.SetAction((parsed, ct) => WithCluster(async grains =>
            {
                var org = parsed.GetRequiredValue(createOrg);
                var outcome = await grains.GetOrgGrain(org).CreateToken(parsed.GetRequiredValue(createName));
                return Report(outcome, org, t => $"Created token '{t.Name}' for '{org}'. It is shown only now:\n\n    {t.Token}\n");
            }, ct));

            var revokeOrg = OrgArgument();
            var revokeName = new Argument<string>("name") { Description = "The token's name." };
            var revoke = new Command("revoke", "Revoke an org API token; every API node refuses it within Auth:TokenCacheSeconds.") { revokeOrg, revokeName };
            revoke.SetAction((parsed, ct) => WithCluster(async grains =>
            {
                var org = parsed.GetRequiredValue(revokeOrg);
                var name = parsed.GetRequiredValue(revokeName);
                var outcome = await grains.GetOrgGrain(org).RevokeToken(name);
                return Report(outcome, org, _ => $"Revoked token '{name}' of '{org}'.", notFound: $"No live token named '{name}' in '{org}'.");
            }, ct));

            return new Command("token", "A platform's API tokens: list, create, revoke.") { list, create, revoke };
        }

        private Command Jwt()
        {
            var org = OrgArgument();
            var user = new Argument<string>("user_id") { Description = "The user's id (the token's sub)." };
            user.Validators.Add(result =>
            {
                if (!RouteKeysFilter.IsValidUserId(result.GetValueOrDefault<string>()))
                    result.AddError("A user id is 1 to 150 of letters, digits and . @ + _ -.");
            });
            var role = new Argument<string>("role") { Description = "admin or student.", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "student" };
            role.AcceptOnlyFromAmong("admin", "student");
            var minutes = new Argument<int>("minutes")
            {
                Description = "Lifetime in minutes (1 to 525600).",
                Arity = ArgumentArity.ZeroOrOne,
                DefaultValueFactory = _ => 60,
                CustomParser = result =>
                {
                    if (result.Tokens.Count == 0) return 60;
                    if (int.TryParse(result.Tokens[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= 525_600) return value;
                    result.AddError("minutes is a whole number from 1 to 525600.");
                    return 0;
                },
            };
            var mint = new Command("mint", "Sign a user token (HS256) with Auth:Jwt:SigningKey, for local testing.") { org, user, role, minutes };
            mint.SetAction(parsed =>
            {
                var jwt = Configuration().GetSection("Auth:Jwt").Get<JwtOptions>() ?? new JwtOptions();
                if (string.IsNullOrEmpty(jwt.SigningKey) || Encoding.UTF8.GetByteCount(jwt.SigningKey) < 32)
                {
                    Error.WriteLine("Set Auth:Jwt:SigningKey (at least 32 bytes), e.g. --Auth:Jwt:SigningKey=... or Auth__Jwt__SigningKey.");
                    return UsageError;
                }
                var lifetime = TimeSpan.FromMinutes(parsed.GetValue(minutes));
                Output.WriteLine(JwtMinter.Mint(jwt, parsed.GetRequiredValue(org), parsed.GetRequiredValue(user), parsed.GetRequiredValue(role), lifetime));
                return 0;
            });
            return new Command("jwt", "User tokens.") { mint };
        }

        private Command Migrate()
        {
            var migrate = new Command("migrate", "Bring the database schema up to this version (PostgreSQL), then exit.");
            migrate.SetAction((_, ct) => MigrateCommand.RunAsync(Configuration(), Output, ct));
            return migrate;
        }

        private static Argument<string> OrgArgument(string name = "org", string description = "The platform's key.")
        {
            var argument = new Argument<string>(name) { Description = description };
            argument.Validators.Add(result =>
            {
                if (!OrgKeys.IsValid(result.GetValueOrDefault<string>())) result.AddError(OrgKeys.Message);
            });
            return argument;
        }

        /// <summary>The settings the service itself would read: appsettings.json beside the binary, environment, then these arguments.</summary>
        private IConfiguration Configuration() => Builder().Configuration;

        private HostApplicationBuilder Builder()
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = Settings, ContentRootPath = AppContext.BaseDirectory });
            // Logs go to standard error, so what a command prints is all that reaches standard output.
            builder.Logging.ClearProviders();
            builder.Logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true);
            return builder;
        }

        private async Task<int> WithCluster(Func<IGrainFactory, Task<int>> action, CancellationToken cancellationToken)
        {
            IHost host;
            try
            {
                var builder = Builder();
                builder.UseOrleansClient(client => OrleansSetup.ConfigureClient(client, builder.Configuration));
                host = builder.Build();
            }
            catch (InvalidOperationException ex)
            {
                // A bad setting (Topology and the settings classes say which).
                Error.WriteLine(ex.Message);
                return UsageError;
            }
            using (host)
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(TimeSpan.FromSeconds(30));
                    await host.StartAsync(timeout.Token);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Error.WriteLine("Could not reach the service's cluster. Is the service running (`dotnet run --project Api`, or the cluster), "
                        + "with the same Orleans settings? " + ex.Message);
                    return Unreachable;
                }
                var code = await action(host.Services.GetRequiredService<IGrainFactory>());
                await host.StopAsync(CancellationToken.None);
                return code;
            }
        }

        private int Report<T>(Outcome<T> outcome, string org, Func<T, string> success, string? notFound = null, bool quietWhenEmpty = false)
        {
            if (outcome.Succeeded)
            {
                var text = success(outcome.Value!);
                if (!(quietWhenEmpty && text.Length == 0)) Output.WriteLine(text);
                return 0;
            }
            Error.WriteLine(outcome.Status switch
            {
                OutcomeStatus.OrgNotFound => NoPlatformMessage(org),
                OutcomeStatus.NotFound => notFound ?? "Not found.",
                OutcomeStatus.QuotaExceeded => outcome.Detail,
                _ => string.Join("; ", outcome.Errors?.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}")) ?? []),
            });
            return Failed;
        }

        private int NoPlatform(string key)
        {
            Error.WriteLine(NoPlatformMessage(key));
            return Failed;
        }

        private static string NoPlatformMessage(string key) => $"No platform '{key}'.";
    }
}
