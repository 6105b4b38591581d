using Microsoft.Extensions.Options;

namespace Credentials.Tests.Infrastructure;

/// <summary>What a service that refused to start said, however the host wrapped it.</summary>
public static class StartupFailures
{
    public static string Messages(Exception error) => error switch
    {
        AggregateException aggregate => string.Join(" | ", aggregate.InnerExceptions.Select(Messages)),
        OptionsValidationException options => options.Message,
        _ => error.Message + (error.InnerException is { } inner ? " | " + Messages(inner) : ""),
    };
}
