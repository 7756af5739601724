namespace SeqSharp.Layers;

/// <summary>Which implementation of its equations a recurrent layer runs.</summary>
public enum RecurrentImplementation
{
    /// <summary>The fused kernel when the cell supports its configuration, else op by op (the default).</summary>
    Auto,

    /// <summary>Always the fused whole-sequence kernel; an unsupported configuration throws.</summary>
    Fused,

    /// <summary>Always the op-by-op reference loop, differentiated by TorchSharp's autograd.</summary>
    OpByOp,
}
