using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Credentials.Grains.Webhooks;

/// <summary>What one attempt got: the receiver's status, or why there was none.</summary>
public readonly record struct SendResult(int? Status, string? Error)
{
    public bool Delivered => Status is >= 200 and < 300;
}

/// <summary>
/// POSTs signed webhook bodies. One client per silo; redirects are not followed, no proxy is used,
/// and every connection is checked against <see cref="TargetAddresses"/> on the very addresses it
/// connects to, unless <see cref="WebhookOptions.AllowInsecureTargets"/>.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _client;
    private readonly TimeProvider _clock;

    public WebhookSender(IOptions<WebhookOptions> options, TargetResolver resolver, TimeProvider clock)
    {
        _clock = clock;
        var allowInsecure = options.Value.AllowInsecureTargets;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = WebhookOptions.AttemptTimeout,
            // Pooled connections are re-made (and re-checked) now and then, so a target's DNS changes are seen.
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = async (context, cancellationToken) =>
            {
                var addresses = await resolver.ResolveAsync(context.DnsEndPoint.Host, cancellationToken);
                if (!allowInsecure && TargetAddresses.Refusal(addresses) is { } why) throw new TargetRefusedException(why);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("Credentials.Orleans-Webhooks/1");
    }

    public async Task<SendResult> SendAsync(string url, byte[] key, string messageId, ReadOnlyMemory<byte> body)
    {
        var timestamp = _clock.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ReadOnlyMemoryContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("webhook-id", messageId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSignature.Sign(key, messageId, timestamp, body.Span));
        using var timeout = new CancellationTokenSource(WebhookOptions.AttemptTimeout, _clock);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return new SendResult((int)response.StatusCode, null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return new SendResult(null, $"no answer within {WebhookOptions.AttemptTimeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            return new SendResult(null, Describe(ex));
        }
    }

    private static string Describe(HttpRequestException ex)
    {
        for (Exception? inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is TargetRefusedException refused) return refused.Message;
        }
        return ex.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "the host could not be resolved",
            HttpRequestError.ConnectionError => "connection failed: " + (ex.InnerException?.Message ?? ex.Message),
            HttpRequestError.SecureConnectionError => "TLS handshake failed",
            _ => "request failed: " + ex.Message,
        };
    }

    public void Dispose() => _client.Dispose();

    private sealed class TargetRefusedException(string why) : IOException($"target refused: {why}");
}
