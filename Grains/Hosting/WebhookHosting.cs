using Credentials.Grains.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Credentials.Grains.Hosting;

public static class WebhookHosting
{
    /// <summary>
    /// Webhook delivery in a silo: its options, the sender and Orleans reminders over our own
    /// storage (<see cref="ChunkReminderTable"/>), which wake deliveries after a restart.
    /// Signing secrets are sealed with the configured key; without one, with the key generated in
    /// <paramref name="defaultKeyFile"/>, or, when that is null (silos sharing a database), the
    /// silo refuses to start.
    /// </summary>
    public static ISiloBuilder AddCredentialsWebhooks(this ISiloBuilder silo, string? defaultKeyFile)
    {
        silo.Services.AddOptions<WebhookOptions>().Bind(silo.Configuration.GetSection(WebhookOptions.Section))
            .Validate(options => options.IsValid, WebhookOptions.ValidationMessage)
            .Validate(options => options.HasConfiguredKey || defaultKeyFile is not null, WebhookOptions.MissingKeyMessage)
            .ValidateOnStart();
        silo.Services.TryAddSingleton(sp => WebhookSecrets.From(sp.GetRequiredService<IOptions<WebhookOptions>>().Value, defaultKeyFile));
        // Read (or generated) at start, so a missing or unreadable key file stops the silo rather than a delivery.
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => new KeyLoader(sp));
        silo.Services.TryAddSingleton<TargetResolver>();
        silo.Services.TryAddSingleton<WebhookSender>();
        silo.AddReminders();
        silo.Services.AddSingleton<IReminderTable, ChunkReminderTable>();
        // A webhook's wake-up period may be shorter than Orleans' default minimum (tests use seconds).
        silo.Services.AddOptions<ReminderOptions>().Configure<IOptions<WebhookOptions>>((reminders, webhooks) =>
        {
            var wake = TimeSpan.FromSeconds(Math.Max(1, webhooks.Value.WakeSeconds));
            if (wake < reminders.MinimumReminderPeriod) reminders.MinimumReminderPeriod = wake;
        });
        return silo;
    }

    private sealed class KeyLoader(IServiceProvider services) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(KeyLoader), ServiceLifecycleStage.RuntimeInitialize, _ =>
            {
                services.GetRequiredService<WebhookSecrets>();
                return Task.CompletedTask;
            });
    }
}
