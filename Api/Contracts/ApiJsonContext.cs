using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace Credentials.Api.Contracts;

/// <summary>Source-generated JSON for every type the API writes: no reflection on hot paths.</summary>
[JsonSerializable(typeof(IssuerView))]
[JsonSerializable(typeof(Envelope<IssuerView>))]
[JsonSerializable(typeof(Envelope<IssuerList>))]
[JsonSerializable(typeof(StatusOnly))]
[JsonSerializable(typeof(IssuerView[]))]
[JsonSerializable(typeof(PlatformView))]
[JsonSerializable(typeof(PlatformList))]
[JsonSerializable(typeof(CreatePlatformRequest))]
[JsonSerializable(typeof(IssuerWriteRequest))]
[JsonSerializable(typeof(CreateTokenRequest))]
[JsonSerializable(typeof(TokenCreatedView))]
[JsonSerializable(typeof(TokenView[]))]
[JsonSerializable(typeof(CreateWebhookRequest))]
[JsonSerializable(typeof(WebhookCreatedView))]
[JsonSerializable(typeof(WebhookView[]))]
[JsonSerializable(typeof(DeliveryList))]
[JsonSerializable(typeof(ImageView))]
[JsonSerializable(typeof(ImageView[]))]
[JsonSerializable(typeof(EventList))]
[JsonSerializable(typeof(OpenBadgesProfile))]
[JsonSerializable(typeof(OpenBadgesIssuerV2))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(HttpValidationProblemDetails))]
[JsonSerializable(typeof(Dictionary<string, string[]>))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
