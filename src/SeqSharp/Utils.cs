using TorchSharp;

namespace SeqSharp;

/// <summary>Process-wide helpers, as in <c>keras.utils</c>.</summary>
public static class Utils
{
    /// <summary>
    /// Seeds every random generator SeqSharp uses (TorchSharp's, which draws initial weights,
    /// shuffles and dropout masks), like <c>keras.utils.set_random_seed</c>: two runs of the same
    /// script with the same seed give the same weights and the same training history.
    /// </summary>
    public static void SetRandomSeed(long seed)
    {
        torch.manual_seed(seed);
        torch.random.manual_seed(seed);
    }

    /// <summary>
    /// Resets the automatic layer names, so the next <c>Dense</c> is called <c>dense</c> again
    /// (like <c>keras.backend.clear_session</c>).
    /// </summary>
    public static void ClearSession() => Layers.LayerNames.Reset();
}
