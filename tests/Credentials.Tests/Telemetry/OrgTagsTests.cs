using Credentials.Grains.Hosting;

namespace Credentials.Tests.Telemetry;

public sealed class OrgTagsTests
{
    [Fact]
    public void The_first_admitted_orgs_keep_their_tag_and_every_later_one_is_other()
    {
        var tags = new OrgTags(2);
        Assert.Equal("a", tags.For("a", admit: true));
        Assert.Equal("b", tags.For("b", admit: true));
        Assert.Equal(OrgTags.Other, tags.For("c", admit: true));
        Assert.Equal("a", tags.For("a", admit: false));
    }

    [Fact]
    public void An_org_not_admitted_takes_no_slot()
    {
        var tags = new OrgTags(1);
        Assert.Equal(OrgTags.Other, tags.For("junk", admit: false));
        Assert.Equal("real", tags.For("real", admit: true));
        Assert.Equal(OrgTags.Other, tags.For("junk", admit: true));
    }

    [Fact]
    public void Zero_tags_every_org_as_other()
    {
        var tags = new OrgTags(0);
        Assert.Equal(OrgTags.Other, tags.For("a", admit: true));
        Assert.Equal(OrgTags.Other, tags.For(null, admit: true));
    }
}
