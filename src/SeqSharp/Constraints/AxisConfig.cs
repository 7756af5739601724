namespace SeqSharp.Constraints;

/// <summary>Keras writes a constraint's axis as an integer, or a list for several axes.</summary>
internal static class AxisConfig
{
    public static object Write(long[] axis) => axis.Length == 1 ? axis[0] : axis.ToList();
}
