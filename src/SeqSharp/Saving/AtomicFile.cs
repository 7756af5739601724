using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace SeqSharp.Saving;

/// <summary>
/// Writes a file through a temporary file in the same folder, moved over the destination only once
/// complete and flushed to disk, then syncs the folder so the move itself survives a power cut: a
/// crash or a full disk never leaves a half-written file where a good one was (the move within one
/// folder replaces the file in one step). Temporary files of the same destination left behind by a
/// killed process are removed by the next save.
/// </summary>
internal static partial class AtomicFile
{
    /// <summary>
    /// A temporary file that no process has written to for this long, and that no process holds open, is
    /// left over from a killed save. A live save writes its temporary file continuously and moves it
    /// right after closing it, so it is never this old while it still matters.
    /// </summary>
    internal static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Test hook: runs with the temporary file's path after it is complete and before it replaces the
    /// destination, so a test can throw there to simulate a crash between the two.
    /// </summary>
    internal static Action<string>? BeforeReplace { get; set; }

    /// <summary>Writes <paramref name="path"/> with <paramref name="write"/>, atomically.</summary>
    /// <param name="path">The destination; its folder must exist.</param>
    /// <param name="write">Writes the whole content to the stream it is given (readable and seekable too).</param>
    /// <exception cref="IOException">
    /// The folder does not exist, the disk is full, ...: the message names <paramref name="path"/>; the
    /// destination is unchanged and the temporary file removed. (<see cref="DirectoryNotFoundException"/>
    /// for a missing folder.)
    /// </exception>
    /// <exception cref="UnauthorizedAccessException">The folder or the destination may not be written; the message names <paramref name="path"/>.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        string name = Path.GetFileName(full);
        string temporary = Path.Combine(folder, $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            RemoveStaleTemporaries(folder, name);
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            BeforeReplace?.Invoke(temporary);
            File.Move(temporary, full, overwrite: true);
            SyncFolder(folder);
        }
        catch (Exception e)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // The original error matters more than a leftover temporary file (the next save removes it).
            }
            switch (e)
            {
                case DirectoryNotFoundException:
                    throw new DirectoryNotFoundException(Failed(full, folder, temporary, e), e);
                case IOException:
                    throw new IOException(Failed(full, folder, temporary, e), e);
                case UnauthorizedAccessException:
                    throw new UnauthorizedAccessException(Failed(full, folder, temporary, e), e);
                default:
                    throw;
            }
        }
    }

    /// <summary>The message of a failed save: the destination first; the temporary file's name only as a detail.</summary>
    private static string Failed(string full, string folder, string temporary, Exception e)
    {
        string reason = e.Message.Replace(temporary, "<temporary file>", StringComparison.Ordinal);
        return Directory.Exists(folder)
            ? $"Could not save '{full}': {reason}"
            : $"Could not save '{full}': its folder '{folder}' does not exist.";
    }

    /// <summary>
    /// Removes <c>.&lt;name&gt;.&lt;32 hex digits&gt;.tmp</c> files of this destination that are older than
    /// <see cref="StaleAfter"/> and that no process holds open (the writer holds its temporary file
    /// exclusively, which on Linux and macOS is an advisory lock that ends with the process).
    /// </summary>
    private static void RemoveStaleTemporaries(string folder, string name)
    {
        if (!Directory.Exists(folder))
            return;
        var pattern = TemporaryName();
        DateTime cutoff = DateTime.UtcNow - StaleAfter;
        foreach (var candidate in Directory.EnumerateFiles(folder, $".{name}.*.tmp"))
        {
            var match = pattern.Match(Path.GetFileName(candidate));
            if (!match.Success || match.Groups["name"].Value != name)
                continue;
            try
            {
                if (File.GetLastWriteTimeUtc(candidate) > cutoff)
                    continue;
                using (new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                    // Opened exclusively: no live writer holds it.
                }
                File.Delete(candidate);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Held by a live save, or removed by another process meanwhile: leave it.
            }
        }
    }

    [GeneratedRegex(@"^\.(?<name>.+)\.[0-9a-f]{32}\.tmp$", RegexOptions.CultureInvariant)]
    private static partial Regex TemporaryName();

    /// <summary>
    /// Flushes the folder's entry list to disk (fsync on the folder), so that the rename is durable and
    /// not only the file's content. Linux and macOS; Windows has no such call (NTFS journals renames).
    /// </summary>
    /// <exception cref="IOException">The folder cannot be opened or synced.</exception>
    internal static void SyncFolder(string folder)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return;
        int fd = Posix.Open(folder, 0 /* O_RDONLY: works on folders without O_DIRECTORY, whose value differs by platform */);
        if (fd < 0)
            throw new IOException($"Cannot open folder '{folder}' to sync it: {Marshal.GetLastPInvokeErrorMessage()}.");
        try
        {
            if (Posix.Fsync(fd) != 0)
            {
                int error = Marshal.GetLastPInvokeError();
                // EINVAL: a file system that cannot sync folders (some network and FUSE file systems).
                if (error != Posix.EINVAL)
                    throw new IOException($"Cannot sync folder '{folder}': {Marshal.GetPInvokeErrorMessage(error)}.");
            }
        }
        finally
        {
            Posix.Close(fd);
        }
    }

    private static partial class Posix
    {
        public const int EINVAL = 22;

        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static partial int Fsync(int fd);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        public static partial int Close(int fd);
    }
}
