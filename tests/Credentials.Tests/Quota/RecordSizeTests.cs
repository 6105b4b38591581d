using System.Text.Json;
using Credentials.Grains;
using Credentials.Grains.Issuers;
using Credentials.Grains.Quotas;
using Credentials.Grains.Storage;

namespace Credentials.Tests.Quota;

/// <summary>How a record's size is measured, and how an org's usage is held against its limits.</summary>
public sealed class RecordSizeTests
{
    private static Issuer Full(string name = "Ünïcödé Akademie 😀 東京") => new(
        "entity-1", name, "dean@example.com", "https://example.com/ünï", "https://example.com/icon.png",
        ["diploma", "badge"], new Dictionary<string, string> { ["Dean"] = "Dr. Ünï", ["Rector"] = "Prof. 東京" });

    private static ImageRecord Image(string name = "Logo") =>
        new(7, name, new string('a', 64), "png", 1234, 4, 3, new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero));

    [Fact]
    public void A_record_measures_as_the_utf8_json_it_is_stored_as()
    {
        var issuer = Full();
        var image = Image();

        var storedIssuer = new StorageJsonSerializer().Serialize(new Chunk<Issuer>(1, [new ChunkItem<Issuer>(1, issuer)])).ToString();
        Assert.Contains(JsonSerializer.Serialize(issuer, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<Issuer>)StorageJsonContext.Default.GetTypeInfo(typeof(Issuer))!), storedIssuer);
        Assert.Equal(
            JsonSerializer.SerializeToUtf8Bytes(issuer, StorageJsonContext.Default.GetTypeInfo(typeof(Issuer))!).Length,
            RecordSize.Of(issuer));
        Assert.Equal(
            JsonSerializer.SerializeToUtf8Bytes(image, StorageJsonContext.Default.GetTypeInfo(typeof(ImageRecord))!).Length,
            RecordSize.Of(image));
    }

    [Fact]
    public void The_size_is_a_function_of_the_record_alone()
    {
        var issuer = Full();
        var roundTripped = new StorageJsonSerializer().Deserialize<Chunk<Issuer>>(
            new StorageJsonSerializer().Serialize(new Chunk<Issuer>(1, [new ChunkItem<Issuer>(1, issuer)]))).Items[0].Value;

        Assert.Equal(RecordSize.Of(issuer), RecordSize.Of(Full()));
        Assert.Equal(RecordSize.Of(issuer), RecordSize.Of(roundTripped));
        Assert.Equal(RecordSize.Of(Image()), RecordSize.Of(Image()));
    }

    [Fact]
    public void Every_text_byte_counts_so_a_longer_field_is_a_larger_record()
    {
        Assert.Equal(RecordSize.Of(Full("abc")) + 1, RecordSize.Of(Full("abcd")));
        Assert.True(RecordSize.Of(Full(new string('x', 255))) > RecordSize.Of(Full("x")) + 250);
        Assert.Equal(RecordSize.Of(Image("a")) + 10, RecordSize.Of(Image("a" + new string('b', 10))));
    }

    [Fact]
    public void A_maximal_issuer_is_measured_whole()
    {
        var big = new Issuer("big", new string('n', IssuerRules.NameMax), null, new string('u', IssuerRules.UrlMax), null,
            Enumerable.Range(0, IssuerRules.TagsMax).Select(i => new string('t', IssuerRules.TagMax)).ToArray(),
            Enumerable.Range(0, IssuerRules.SignatoriesMax).ToDictionary(i => $"{i:D3}", _ => new string('v', IssuerRules.SignatoryValueMax)));

        Assert.InRange(RecordSize.Of(big), 100 * 100 + 50 * 2048, 100 * 110 + 50 * 2100 + 2048 + 512);
    }

    [Fact]
    public void Usage_refuses_a_write_that_would_pass_a_limit_and_names_it()
    {
        var usage = new OrgUsage(new OrgLimits { MaxOrgRecordBytes = 100, MaxOrgImageBytes = 1000 });

        Assert.Null(usage.Refusal(100));
        usage.AddRecordBytes(100);
        Assert.Equal("This platform's issuer and image records would exceed Limits:MaxOrgRecordBytes (100 bytes).", usage.Refusal(1));
        Assert.Null(usage.Refusal(0));
        Assert.Null(usage.Refusal(-10));

        usage.AddRecordBytes(-40);
        Assert.Null(usage.Refusal(40, 1000));
        Assert.Equal("This platform's stored image bytes would exceed Limits:MaxOrgImageBytes (1000 bytes).", usage.Refusal(40, 1001));
        usage.AddImageBytes(1000);
        Assert.NotNull(usage.Refusal(0, 1));
        Assert.Null(usage.Refusal(10, 0));
    }

    [Fact]
    public void Usage_above_a_lowered_limit_still_lets_writes_shrink()
    {
        var usage = new OrgUsage(new OrgLimits { MaxOrgRecordBytes = 10 });
        usage.AddRecordBytes(50);

        Assert.NotNull(usage.Refusal(1));
        Assert.Null(usage.Refusal(-1));
    }
}
