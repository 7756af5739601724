using System.Buffers.Binary;

namespace SeqSharp.Tests.Plotting;

/// <summary>Reads a PNG's signature and its IHDR chunk's width and height (big-endian, bytes 16-23).</summary>
internal static class PngFile
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static (int Width, int Height) Size(string path)
    {
        Assert.True(File.Exists(path), $"No file at {path}.");
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 33, $"{path} has {bytes.Length} bytes, fewer than a PNG header.");
        Assert.True(bytes.AsSpan(0, 8).SequenceEqual(Signature), $"{path} does not start with the PNG signature.");
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4)));
    }

    /// <summary>Asserts a PNG of exactly that size was written.</summary>
    public static void AssertSize(string path, int width, int height) => Assert.Equal((width, height), Size(path));
}
