namespace SeqSharp.Saving;

/// <summary>
/// Writes a file through a temporary file in the same folder, moved over the destination only once
/// complete and flushed to disk: a crash or a full disk never leaves a half-written file where a
/// good one was (the move within one folder replaces the file in one step).
/// </summary>
internal static class AtomicFile
{
    /// <summary>
    /// Test hook: runs with the temporary file's path after it is complete and before it replaces the
    /// destination, so a test can throw there to simulate a crash between the two.
    /// </summary>
    internal static Action<string>? BeforeReplace { get; set; }

    /// <summary>Writes <paramref name="path"/> with <paramref name="write"/>, atomically.</summary>
    /// <param name="path">The destination; its folder must exist.</param>
    /// <param name="write">Writes the whole content to the stream it is given.</param>
    /// <exception cref="IOException">The folder does not exist, the disk is full, ...; the destination is unchanged and the temporary file removed.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        string temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            BeforeReplace?.Invoke(temporary);
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temporary);
            }
            catch (IOException)
            {
                // The original error matters more than a leftover temporary file.
            }
            throw;
        }
    }
}
