using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// Keeps exceptions from leaving a custom autograd function's <c>backward</c>, and brings them back
/// where our code called <c>backward()</c>.
/// </summary>
/// <remarks>
/// <para>LibTorch's autograd engine calls a TorchSharp <c>Function.backward</c> through a native
/// callback. A managed exception that leaves that callback cannot be caught: the runtime ends the
/// process (SIGABRT, exit code 134). TorchSharp's callback has no way to report an error, and it
/// checks the count and positions of the returned gradients in managed code, so it cannot be made to
/// fail there either.</para>
/// <para>So <see cref="Run"/> catches every exception of the body, keeps it for the calling thread,
/// and returns "poison" gradients: a scalar where a tensor input of rank &gt;= 1 expects a gradient
/// of its own shape. The engine's gradient validation refuses that ("returned an invalid gradient at
/// index ... got [] but expected shape compatible with ...") with a C++ exception, which the engine
/// hands to the thread that called <c>backward()</c>, where TorchSharp turns it into a catchable
/// <c>ExternalException</c>. <see cref="Backward"/> and <see cref="Grad"/> then throw the kept
/// exception instead, which names the layer and the cause. CPU backward runs on the calling thread,
/// which is why the kept exception is thread-static.</para>
/// </remarks>
internal static class BackwardFailure
{
    [ThreadStatic] private static Exception? t_pending;

    /// <summary>
    /// Key under which <see cref="Remember"/> stores which forward arguments were tensors (those get
    /// a gradient slot, the others must get null).
    /// </summary>
    private const string TensorSlotsKey = "seqsharp.tensorSlots";
    private const string LayerKey = "seqsharp.layer";

    /// <summary>
    /// Records in <paramref name="ctx"/>, during forward, what <see cref="Run"/> needs to fail
    /// cleanly: which arguments are tensors, and the layer's name for messages.
    /// </summary>
    public static void Remember(autograd.AutogradContext ctx, object?[] vars, string? layerName)
    {
        ctx.save_data(TensorSlotsKey, vars.Select(v => v is Tensor t && !t.IsInvalid).ToArray());
        ctx.save_data(LayerKey, layerName ?? "");
    }

    /// <summary>
    /// Runs a backward body. Any exception is kept for this thread (with a message naming the layer
    /// and the cause) and answered with gradients the engine refuses, so the failure travels to the
    /// caller of <c>backward()</c> instead of aborting the process.
    /// </summary>
    /// <param name="ctx">The function's context, filled by <see cref="Remember"/> in forward.</param>
    /// <param name="kind">The layer kind for messages, e.g. <c>"LSTM"</c>.</param>
    /// <param name="body">The backward computation.</param>
    public static List<Tensor> Run(autograd.AutogradContext ctx, string kind, Func<List<Tensor>> body)
    {
        try
        {
            return CheckSlots(ctx, kind, body());
        }
        catch (Exception e)
        {
            string layer = ctx.get_data(LayerKey) as string is { Length: > 0 } name ? $"layer '{name}' ({kind})" : $"a {kind} layer";
            // Keep the first failure of this backward pass: it is the cause; later ones follow from it.
            t_pending ??= Describe(e, layer);
            return Poison(ctx);
        }
    }

    /// <summary>
    /// <c>loss.backward()</c>, throwing the failure of a SeqSharp kernel's backward (with its own
    /// message) instead of LibTorch's generic refusal of the poison gradients.
    /// </summary>
    /// <exception cref="InvalidOperationException">A recurrent layer's backward failed; the message names the layer and the cause.</exception>
    public static void Backward(Tensor loss) => Guard(() => { loss.backward(); return 0; });

    /// <summary><c>torch.autograd.grad</c> with the same translation of failures as <see cref="Backward"/>.</summary>
    public static IList<Tensor> Grad(IList<Tensor> outputs, IList<Tensor> inputs, bool allowUnused) =>
        Guard(() => torch.autograd.grad(outputs, inputs, allow_unused: allowUnused));

    private static T Guard<T>(Func<T> run)
    {
        t_pending = null;
        T result;
        try
        {
            result = run();
        }
        catch (Exception) when (t_pending is not null)
        {
            throw Take()!;
        }
        catch (ExternalException e) when (IsSavedTensorChanged(e))
        {
            // The same misuse caught by one of LibTorch's own nodes (a Dense layer's product, say).
            throw SavedTensorChanged(e, "the model");
        }
        // The poison always makes the engine fail; this is a second line should it ever not.
        if (Take() is { } unreported)
            throw unreported;
        return result;
    }

    /// <summary>
    /// TorchSharp checks, in managed code inside the native callback, that there is one gradient per
    /// forward argument and none for arguments that were not tensors; a mismatch would be thrown there
    /// and abort the process. Checked here instead, inside the catch.
    /// </summary>
    private static List<Tensor> CheckSlots(autograd.AutogradContext ctx, string kind, List<Tensor> gradients)
    {
        var slots = (bool[])ctx.get_data(TensorSlotsKey);
        if (gradients.Count != slots.Length)
            throw new InvalidOperationException($"The {kind} kernel returned {gradients.Count} gradients for {slots.Length} forward arguments.");
        for (int k = 0; k < slots.Length; k++)
        {
            if (!slots[k] && gradients[k] is not null)
                throw new InvalidOperationException($"The {kind} kernel returned a gradient for forward argument {k}, which is not a tensor.");
        }
        return gradients;
    }

    private static Exception? Take()
    {
        var pending = t_pending;
        t_pending = null;
        return pending;
    }

    private static InvalidOperationException Describe(Exception e, string layer)
    {
        // LibTorch's own check of saved tensors (their version counters) when backward unpacks them.
        if (e is ExternalException external && IsSavedTensorChanged(external))
            return SavedTensorChanged(external, layer);
        return new InvalidOperationException($"The backward pass of {layer} failed: {e.GetType().Name}: {FirstLine(e.Message)}", e);
    }

    private static bool IsSavedTensorChanged(ExternalException e) => e.Message.Contains("modified by an inplace operation", StringComparison.Ordinal);

    private static InvalidOperationException SavedTensorChanged(ExternalException e, string subject) => new(
        $"Cannot compute the gradient of {subject}: a tensor its forward pass saved for backward was changed in place before backward() ran. " +
        "This happens when weights are set, loaded or updated between the forward pass and backward() " +
        "(SetWeights, LoadWeights, an optimizer step, or another thread training the same model), or when an input, " +
        $"initial state or output is modified in place. Run the forward pass again after changing them. LibTorch: {FirstLine(e.Message)}", e);

    /// <summary>A native message up to its C++ stack frames.</summary>
    private static string FirstLine(string message)
    {
        int frames = message.IndexOf("Exception raised from", StringComparison.Ordinal);
        return (frames > 0 ? message[..frames] : message.Split('\n')[0]).Trim();
    }

    /// <summary>
    /// A scalar in every tensor slot and null elsewhere: the count and positions TorchSharp checks are
    /// right, and every input that takes a gradient (all of rank &gt;= 1 here) refuses a scalar.
    /// </summary>
    private static List<Tensor> Poison(autograd.AutogradContext ctx)
    {
        var slots = (bool[])ctx.get_data(TensorSlotsKey);
        return slots.Select(isTensor => isTensor ? torch.zeros(Array.Empty<long>()) : null!).ToList();
    }
}
