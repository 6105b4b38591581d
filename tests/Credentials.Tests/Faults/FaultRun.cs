using Credentials.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Credentials.Tests.Faults;

/// <summary>What every fault test shares: a hard deadline, the orgs under load, and the final checks.</summary>
public static class FaultRun
{
    /// <summary>
    /// Runs <paramref name="body"/> and fails the test when it takes longer than <paramref name="limit"/>,
    /// whatever it is waiting for (the caller's disposals then stop the processes and the load).
    /// </summary>
    public static async Task WithDeadline(TimeSpan limit, Func<Task> body)
    {
        var run = body();
        if (await Task.WhenAny(run, Task.Delay(limit)) != run)
        {
            throw new TimeoutException($"The fault test exceeded its hard deadline of {limit.TotalSeconds:0} s.");
        }
        await run;
    }

    public static async Task<string[]> CreateOrgsAsync(HttpClient admin, int count) =>
        await Task.WhenAll(Enumerable.Range(0, count).Select(_ => admin.CreatePlatformAsync()));

    /// <summary>Every acknowledged write is read back, and no answer during the fault broke the rules.</summary>
    public static async Task AssertNothingLostAsync(WriteLedger ledger, Uri reader, ITestOutputHelper output, TimeSpan verifyTimeout)
    {
        var verification = await ledger.VerifyAsync(reader, verifyTimeout);
        output.WriteLine(ledger.Summary());
        output.WriteLine(verification.ToString());
        Assert.True(ledger.Acknowledged > 0, "no write was acknowledged: " + ledger.Summary());
        Assert.True(verification.Lost.Count == 0, verification + "\n" + ledger.Summary());
        Assert.True(!ledger.Violations.Any(), "answers other than 2xx/503 (or connection failures while the service was up):\n" + ledger.Summary());
    }
}
