namespace SeqSharp.Tests.TestSupport;

/// <summary>A fresh folder under the system's temporary folder, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() : this(System.IO.Path.GetTempPath())
    {
    }

    /// <summary>A fresh folder under <paramref name="parent"/> (e.g. <c>/dev/shm</c>), deleted on dispose.</summary>
    public TempFolder(string parent)
    {
        Path = System.IO.Path.Combine(parent, "seqsharp-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
