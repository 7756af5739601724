using System.Reflection;
using ScottPlot;
using SkiaSharp;

namespace SeqSharp.Plotting;

/// <summary>
/// Serves the DejaVu Sans subset embedded in this assembly to ScottPlot under <see cref="FamilyName"/>.
/// SkiaSharp's Linux "NoDependencies" build reads no fontconfig, and a server or CI image may have no
/// font at all; without one ScottPlot draws no text, so the plots carry their own.
/// </summary>
internal sealed class EmbeddedFontResolver : IFontResolver
{
    /// <summary>The family name the plots ask for; unique so a system font never stands in.</summary>
    public const string FamilyName = "SeqSharp Sans";

    private static readonly Lazy<SKTypeface> Regular = new(() => Load("DejaVuSans.ttf"));
    private static readonly Lazy<SKTypeface> Bold = new(() => Load("DejaVuSans-Bold.ttf"));
    private static readonly object Gate = new();
    private static bool _registered;

    /// <summary>Puts the resolver first in ScottPlot's list, once per process.</summary>
    public static void EnsureRegistered()
    {
        lock (Gate)
        {
            if (_registered)
                return;
            Fonts.FontResolvers.Insert(0, new EmbeddedFontResolver());
            _registered = true;
        }
    }

    public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) =>
        fontName == FamilyName ? (bold ? Bold.Value : Regular.Value) : null;

    public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing spacing) =>
        CreateTypeface(fontName, weight >= FontWeight.SemiBold, slant != FontSlant.Upright);

    private static SKTypeface Load(string file)
    {
        string name = "SeqSharp.Plotting.Fonts." + file;
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded font '{name}' is missing from SeqSharp.Plotting.");
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        // A copy owned by Skia: the typeface outlives the managed stream.
        using var data = SKData.CreateCopy(bytes.ToArray());
        return SKTypeface.FromData(data)
            ?? throw new InvalidOperationException($"SkiaSharp could not read the embedded font '{name}'.");
    }
}
