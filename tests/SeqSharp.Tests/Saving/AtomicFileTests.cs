using SeqSharp.Saving;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Saving;

/// <summary>Crash-safe saves: stale temporary files removed, the folder synced, errors naming the destination.</summary>
public class AtomicFileTests
{
    private static void Write(string path, string text) => AtomicFile.Write(path, s => s.Write(System.Text.Encoding.UTF8.GetBytes(text)));

    /// <summary>A temporary file as a killed save leaves it: the writer's name pattern, last written <paramref name="age"/> ago.</summary>
    private static string Leftover(TempFolder folder, string target, TimeSpan age)
    {
        var path = folder.File($".{target}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(path, "half a model");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow - age);
        return path;
    }

    [Fact]
    public void Write_StaleTemporariesOfTheSameTarget_AreRemovedOthersKept()
    {
        using var folder = new TempFolder();
        var stale = Leftover(folder, "m.keras", TimeSpan.FromHours(2));
        var fresh = Leftover(folder, "m.keras", TimeSpan.Zero);               // a save that may still be running
        var otherTarget = Leftover(folder, "other.keras", TimeSpan.FromHours(2));
        var prefixTarget = Leftover(folder, "m.keras.bak", TimeSpan.FromHours(2));
        var notOurs = folder.File(".m.keras.notahexguid.tmp");
        File.WriteAllText(notOurs, "x");
        File.SetLastWriteTimeUtc(notOurs, DateTime.UtcNow - TimeSpan.FromHours(2));

        Write(folder.File("m.keras"), "model");

        Assert.False(File.Exists(stale), "the stale temporary file of m.keras should be removed");
        Assert.True(File.Exists(fresh), "a recent temporary file may belong to a live save");
        Assert.True(File.Exists(otherTarget));
        Assert.True(File.Exists(prefixTarget));
        Assert.True(File.Exists(notOurs));
        Assert.Equal("model", File.ReadAllText(folder.File("m.keras")));
    }

    [Fact]
    public void Write_StaleTemporaryHeldOpenByALiveWriter_IsKept()
    {
        using var folder = new TempFolder();
        var held = Leftover(folder, "m.keras", TimeSpan.FromHours(2));
        using (new FileStream(held, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            Write(folder.File("m.keras"), "model");
            Assert.True(File.Exists(held));
        }
    }

    [Fact]
    public void Write_MissingFolder_ErrorNamesTheTargetNotTheTemporaryFile()
    {
        using var folder = new TempFolder();
        var target = Path.Combine(folder.Path, "missing", "m.keras");

        var e = Assert.Throws<DirectoryNotFoundException>(() => Write(target, "model"));

        Assert.Contains($"'{target}'", e.Message);
        Assert.DoesNotContain(".tmp", e.Message);
    }

    [Fact]
    public void Write_TargetIsAFolder_ErrorNamesTheTargetAndNoTemporaryFileRemains()
    {
        using var folder = new TempFolder();
        var target = folder.File("m.keras");
        Directory.CreateDirectory(target);

        var e = Assert.ThrowsAny<Exception>(() => Write(target, "model"));

        Assert.True(e is IOException or UnauthorizedAccessException, e.ToString());
        Assert.Contains($"'{target}'", e.Message);
        Assert.DoesNotContain(".tmp", e.Message);
        Assert.Equal([target], Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void Write_FailureInsideTheWriter_PassesTheWritersExceptionAndRemovesTheTemporaryFile()
    {
        using var folder = new TempFolder();
        Assert.Throws<NotSupportedException>(() => AtomicFile.Write(folder.File("m.keras"), _ => throw new NotSupportedException("dtype")));
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void SyncFolder_ExistingFolderSyncs_MissingFolderIsAnIOException()
    {
        using var folder = new TempFolder();
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            AtomicFile.SyncFolder(Path.Combine(folder.Path, "missing"));   // Windows: nothing to sync, by design
            return;
        }
        AtomicFile.SyncFolder(folder.Path);   // the real open + fsync calls; throws if libc cannot be called
        var e = Assert.Throws<IOException>(() => AtomicFile.SyncFolder(Path.Combine(folder.Path, "missing")));
        Assert.Contains("missing", e.Message);
    }
}
