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
    /// </summary>
    public static ISiloBuilder AddCredentialsWebhooks(this ISiloBuilder silo)
    {
        silo.Services.AddOptions<WebhookOptions>().Bind(silo.Configuration.GetSection(WebhookOptions.Section))
            .Validate(options => options.IsValid, WebhookOptions.ValidationMessage)
            .ValidateOnStart();
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
}
