using SeqSharp.Plotting;
using SeqSharp.Tests.TestSupport;
using SkiaSharp;

namespace SeqSharp.Tests.Plotting;

public class EmbeddedFontResolverTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CreateTypeface_OwnFamily_ServesEmbeddedDejaVuSans(bool bold)
    {
        var typeface = new EmbeddedFontResolver().CreateTypeface(EmbeddedFontResolver.FamilyName, bold, italic: false);

        Assert.NotNull(typeface);
        Assert.Equal("DejaVu Sans", typeface.FamilyName);
        Assert.Equal(bold, typeface.IsBold);
        Assert.True(typeface.ContainsGlyphs("loss val_loss epoch 0123456789.-"));
    }

    [Fact]
    public void CreateTypeface_OtherFamily_LeavesItToOtherResolvers()
    {
        Assert.Null(new EmbeddedFontResolver().CreateTypeface("Arial", bold: false, italic: false));
    }

    [Fact]
    public void Plot_Title_IsDrawnAsDarkPixelsAboveThePanel()
    {
        var history = new History();
        for (int e = 0; e < 3; e++)
            history.OnEpochEnd(e, new Dictionary<string, double> { ["loss"] = 1.0 / (e + 1) });
        using var temp = new TempFolder();
        string path = history.Plot(temp.File("loss.png"));   // title "Training history: loss", ~530 dark pixels in the band

        using var bitmap = SKBitmap.Decode(path);
        int dark = 0;
        // The title band: top 30 rows of the middle third, where nothing but the title is drawn.
        for (int y = 0; y < 30; y++)
        {
            for (int x = bitmap.Width / 3; x < 2 * bitmap.Width / 3; x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red + c.Green + c.Blue < 3 * 128)
                    dark++;
            }
        }
        Assert.True(dark > 300, $"Expected the title's glyphs in the top band. Received: {dark} dark pixels.");
    }
}
