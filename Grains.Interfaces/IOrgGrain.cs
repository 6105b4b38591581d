using Orleans.Concurrency;

namespace Credentials.Grains;

/// <summary>
/// One grain per org (platform) key. It owns the platform record and the org's issuers, serves reads
/// from memory and acknowledges a write only once it is durable.
/// </summary>
[Alias("credentials.org")]
public interface IOrgGrain : IGrainWithStringKey
{
    [Alias("platform.create")]
    Task<Outcome<Platform>> CreatePlatform(string? name);

    [Alias("platform.get"), ReadOnly]
    Task<Platform?> GetPlatform();

    /// <summary>Creates an org API token; the secret is in the answer and nowhere else.</summary>
    [Alias("tokens.create")]
    Task<Outcome<IssuedToken>> CreateToken(string name);

    [Alias("tokens.list"), ReadOnly]
    Task<Outcome<IReadOnlyList<ApiTokenInfo>>> ListTokens();

    [Alias("tokens.revoke")]
    Task<Outcome<bool>> RevokeToken(string name);

    /// <summary>The name of the live token whose SHA-256 is <paramref name="tokenHash"/>, or null.</summary>
    [Alias("tokens.authenticate"), ReadOnly]
    Task<string?> AuthenticateToken(byte[] tokenHash);

    /// <summary>Records an image whose bytes the caller has already put in the blob store.</summary>
    [Alias("images.add")]
    Task<Outcome<ImageRecord>> AddImage(ImageUpload upload);

    /// <summary>
    /// Records a small image and stores its bytes with the record: both durable, or neither (an
    /// upload of at most <see cref="ImageBytes.MaxInlineBytes"/>). Answers
    /// <see cref="OutcomeStatus.BlobMissing"/> while a blob of that hash is being deleted: ask again.
    /// </summary>
    [Alias("images.add-with-bytes")]
    Task<Outcome<ImageRecord>> AddImageWithBytes(ImageUpload upload, ImageBytes bytes);

    /// <summary>
    /// The matches for <paramref name="query"/> (case-insensitive substring of the name), oldest first,
    /// with an id above <paramref name="afterId"/>, skipping <paramref name="offset"/> of them; at most
    /// <paramref name="limit"/>, and fewer when they would not fit one bounded reply.
    /// </summary>
    [Alias("images.search.v2"), ReadOnly]
    Task<Outcome<ImagePage>> SearchImages(string query, int offset, int limit, long afterId = 0);

    /// <summary>
    /// Whether this upload's record and bytes would fit the org's limits now: asked before the bytes
    /// go to the blob store; <see cref="AddImage"/> decides again.
    /// </summary>
    [Alias("images.room"), ReadOnly]
    Task<Outcome<bool>> CheckImageRoom(ImageUpload upload);

    [Alias("images.get"), ReadOnly]
    Task<Outcome<ImageRecord>> GetImage(long id);

    /// <summary>Deletes an image record; its bytes are removed once no record uses them.</summary>
    [Alias("images.delete")]
    Task<Outcome<bool>> DeleteImage(long id);

    /// <summary>
    /// What the org knows of the rendition of its image <paramref name="sourceSha256"/> at
    /// <paramref name="size"/>: stored, remembered as failed, or to be made (NotFound when no image
    /// of the org has those bytes).
    /// </summary>
    [Alias("renditions.plan"), ReadOnly]
    Task<Outcome<RenditionPlan>> PlanRendition(string sourceSha256, int size);

    /// <summary>
    /// Records a rendition whose bytes the caller has already put in the blob store, or a source
    /// that could not be rendered; counted in the org's image bytes, removed with the source.
    /// </summary>
    [Alias("renditions.add")]
    Task<Outcome<RenditionRecord>> AddRendition(RenditionRecord rendition);

    /// <summary>
    /// Issuers in creation order whose name contains <paramref name="query"/> (all when empty), after
    /// the one with sequence number <paramref name="after"/> (0: from the start), skipping
    /// <paramref name="offset"/> of them; at most <paramref name="limit"/>, and fewer when they would
    /// not fit one bounded reply (<see cref="IssuerPage.ContinueAfter"/>).
    /// </summary>
    [Alias("issuers.list.v2"), ReadOnly]
    Task<Outcome<IssuerPage>> ListIssuers(string? query, int offset, int limit, long after = 0);

    /// <summary>
    /// The first reply of <see cref="ListIssuers"/> for a caller that holds the page taken at
    /// <paramref name="knownVersion"/>: while the org's issuers are still at that version, an
    /// empty reply with <see cref="IssuerPage.Unchanged"/> set (no scan, no items), else the page.
    /// </summary>
    [Alias("issuers.list.unless-unchanged"), ReadOnly]
    Task<Outcome<IssuerPage>> ListIssuersUnlessUnchanged(string? query, int offset, int limit, long knownVersion);

    [Alias("issuers.get"), ReadOnly]
    Task<Outcome<Issuer>> GetIssuer(string entityId);

    [Alias("issuers.create")]
    Task<Outcome<Issuer>> CreateIssuer(IssuerInput input);

    /// <summary>PUT: every writable field is replaced; fields not sent return to their defaults.</summary>
    [Alias("issuers.replace")]
    Task<Outcome<Issuer>> ReplaceIssuer(string entityId, IssuerInput input);

    /// <summary>PATCH: only the fields sent change.</summary>
    [Alias("issuers.patch")]
    Task<Outcome<Issuer>> PatchIssuer(string entityId, IssuerInput input);

    [Alias("issuers.delete")]
    Task<Outcome<bool>> DeleteIssuer(string entityId);

    /// <summary>
    /// The org's events (C4) with an id above <paramref name="after"/>, oldest first: at most
    /// <paramref name="limit"/> (1 to 1000), fewer when they would not fit one bounded reply;
    /// events past their retention are not shown.
    /// </summary>
    [Alias("events.read"), ReadOnly]
    Task<Outcome<EventPage>> ReadEvents(long after, int limit);

    /// <summary>Subscribes <paramref name="url"/> to the org's events (actions, or "*"); the secret is in the answer only.</summary>
    [Alias("webhooks.create")]
    Task<Outcome<CreatedWebhook>> CreateWebhook(string? url, string[]? events);

    [Alias("webhooks.list"), ReadOnly]
    Task<Outcome<IReadOnlyList<WebhookInfo>>> ListWebhooks();

    [Alias("webhooks.delete")]
    Task<Outcome<bool>> DeleteWebhook(string id);

    /// <summary>The latest delivery attempts of one webhook, newest first.</summary>
    [Alias("webhooks.attempts"), ReadOnly]
    Task<Outcome<IReadOnlyList<DeliveryAttempt>>> ListWebhookAttempts(string id);

    /// <summary>For the webhook's delivery grain: its target and its next events after <paramref name="after"/>.</summary>
    [Alias("webhooks.work"), ReadOnly]
    Task<WebhookWork> TakeWebhookWork(string id, long after, int max);
    /// <summary>Starts a request that carries an Idempotency-Key (C3): run it, replay its first answer, or refuse it.</summary>
    [Alias("idempotency.claim")]
    Task<IdempotentClaim> ClaimIdempotencyKey(IdempotentRequest request);

    /// <summary>
    /// Ends a claim: keeps <paramref name="answer"/> durably for 24 h, or with null (a 5xx, a
    /// failure) releases the key so a repeat runs again.
    /// </summary>
    [Alias("idempotency.complete")]
    Task CompleteIdempotencyKey(IdempotentRequest request, Guid lease, StoredAnswer? answer);
}

/// <summary>A stateless grain the API calls to prove the cluster answers (readiness).</summary>
[Alias("credentials.probe")]
public interface IProbeGrain : IGrainWithIntegerKey
{
    [Alias("ping")]
    Task<string> Ping();
}
