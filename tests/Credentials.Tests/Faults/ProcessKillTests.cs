using Credentials.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Credentials.Tests.Faults;

/// <summary>
/// The embedded service (SQLite) killed with SIGKILL in the middle of a write burst and started
/// again over the same data directory: every write it acknowledged before dying is still there.
/// </summary>
[Trait("Category", "Fault")]
public sealed class ProcessKillTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_process_killed_under_write_load_keeps_every_acknowledged_issuer_and_image()
    {
        await using var service = new ServiceProcess();
        WriteLedger? ledger = null;
        try
        {
            await FaultRun.WithDeadline(TimeSpan.FromSeconds(240), async () =>
            {
                await service.StartAsync(TimeSpan.FromSeconds(60));
                using var admin = new HttpClient { BaseAddress = service.BaseAddress };
                admin.DefaultRequestHeaders.Authorization = new("Api-Token", ApiFactory.AdminToken);
                var orgs = await FaultRun.CreateOrgsAsync(admin, 4);

                ledger = new WriteLedger([service.BaseAddress], ApiFactory.AdminToken, orgs, new WriteLedger.Options { Writers = 16 });
                ledger.Start();
                // A couple of seconds of writes on a quiet machine; a count, not a clock, on a busy one.
                await ledger.WaitForMoreAcksAsync(400, TimeSpan.FromSeconds(40), "before the kill");

                ledger.BeginOutage("SIGKILL and restart");
                await service.KillAsync();
                var acknowledgedBeforeKill = ledger.Acknowledged;
                await service.StartAsync(TimeSpan.FromSeconds(60));
                ledger.Reconnect();
                ledger.EndOutage();
                await ledger.WaitForMoreAcksAsync(100, TimeSpan.FromSeconds(30), "after the restart");
                await ledger.StopAsync();

                output.WriteLine($"{acknowledgedBeforeKill} writes acknowledged before the kill");
                await FaultRun.AssertNothingLostAsync(ledger, service.BaseAddress, output, TimeSpan.FromSeconds(30));
            });
        }
        finally
        {
            if (ledger is not null) await ledger.DisposeAsync();
        }
    }
}
