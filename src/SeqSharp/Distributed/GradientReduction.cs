using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Distributed;

/// <summary>
/// The gradient sums of data-parallel steps for one list of variables: a pinned buffer laid out with the last
/// layer's weights first, cut into buckets of at most <see cref="DataParallel.BucketBytes"/>, each summed over the
/// ranks by one collective call.
/// </summary>
/// <remarks>
/// <para>Without overlap every bucket is summed after the backward pass. With overlap
/// (<see cref="DataParallel.OverlapGradients"/>), the model marks each layer's input during the forward pass
/// (<see cref="Mark"/>); when backward reaches that mark, the layer and every layer after it have their weight
/// gradients, so the buckets holding only those layers' weights start summing there
/// (<see cref="Communicator.StartAllreduceSum"/>, MPI_Iallreduce) while backward goes on through the earlier layers.
/// CPU backward runs on the thread that called it, which is the thread that makes every MPI call (FUNNELED);
/// a mark reached on another thread starts nothing, and its buckets start after backward.</para>
/// <para>Every rank starts the buckets in the same order (bucket 0 first), whatever the moment, as MPI requires.</para>
/// </remarks>
internal sealed unsafe class GradientReduction
{
    private readonly DataParallel _owner;
    private readonly Parameter[] _variables;
    private readonly long[] _offsets;
    private readonly Bucket[] _buckets;
    private readonly float[] _buffer;
    private readonly float* _pinned;
    private int _started;
    private float _weight;
    private bool _contributes;

    private readonly record struct Bucket(long Offset, int Count, int FirstLayer)
    {
        public nint Request { get; init; }
    }

    /// <param name="owner">The distribution whose communicator sums.</param>
    /// <param name="variables">The trainable variables, as the optimizer takes them.</param>
    /// <param name="layerOf">Each variable's layer position in the model (0 when not known: summed after backward).</param>
    public GradientReduction(DataParallel owner, IReadOnlyList<Parameter> variables, Func<Parameter, int> layerOf)
    {
        _owner = owner;
        Source = variables;
        // The last layer's weights first: backward produces them first. Stable, so a layer's weights keep their order.
        var ordered = variables.Select((v, i) => (Variable: v, Layer: layerOf(v), Index: i))
            .OrderByDescending(e => e.Layer).ThenBy(e => e.Index).ToArray();
        _variables = ordered.Select(e => e.Variable).ToArray();
        var layers = ordered.Select(e => e.Layer).ToArray();
        _offsets = new long[_variables.Length + 1];
        for (int i = 0; i < _variables.Length; i++)
            _offsets[i + 1] = _offsets[i] + _variables[i].numel();
        long total = _offsets[^1];
        if (total > int.MaxValue)
            throw new NotSupportedException($"Data-parallel training sums at most {int.MaxValue} gradient values per step; this model has {total}.");
        _buffer = GC.AllocateArray<float>((int)Math.Max(1, total), pinned: true);
        _pinned = (float*)Marshal.UnsafeAddrOfPinnedArrayElement(_buffer, 0);

        // Buckets: consecutive pieces of the buffer; a bucket is ready once the earliest layer it touches is.
        int perBucket = Math.Max(1, owner.BucketBytes / sizeof(float));
        var buckets = new List<Bucket>();
        for (long start = 0; start < total; start += perBucket)
        {
            int count = (int)Math.Min(perBucket, total - start);
            int first = int.MaxValue;
            for (int i = 0; i < _variables.Length; i++)
            {
                if (_offsets[i] < start + count && _offsets[i + 1] > start)
                    first = Math.Min(first, layers[i]);
            }
            buckets.Add(new Bucket(start, count, first));
        }
        _buckets = [.. buckets];
    }

    /// <summary>The variables this reduction was made for, in the caller's order.</summary>
    public IReadOnlyList<Parameter> Source { get; }

    /// <summary>Buckets started by marks during backward (overlapped), since this reduction was made.</summary>
    public long OverlappedBuckets { get; private set; }

    /// <summary>The number of buckets per step.</summary>
    public int BucketCount => _buckets.Length;

    /// <summary>Starts a step in which this rank trains on <paramref name="localCount"/> rows (0: it only takes part in the sums).</summary>
    public void Begin(long localCount)
    {
        _started = 0;
        _weight = localCount;
        _contributes = localCount > 0;
        Failure = null;
    }

    /// <summary>This rank failed in the step: the buckets not started yet carry zeros.</summary>
    public void Fail() => _contributes = false;

    /// <summary>An error raised by a mark during backward (an MPI failure), kept for <see cref="Finish"/>.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>
    /// Called by a mark during backward: every layer from <paramref name="layer"/> on has its weight gradients, so
    /// the buckets that hold only such weights start now, in order. Never throws (it runs inside LibTorch's engine).
    /// </summary>
    public void Ready(int layer)
    {
        try
        {
            if (!_owner.OnMpiThread)
                return;
            long clock = System.Diagnostics.Stopwatch.GetTimestamp();
            while (_started < _buckets.Length && _buckets[_started].FirstLayer >= layer)
            {
                StartBucket(_started++);
                OverlappedBuckets++;
            }
            // Open MPI advances a started sum only inside MPI calls: give the earlier ones a push.
            for (int b = 0; b < _started; b++)
                _owner.Communicator.Test(_buckets[b].Request);
            _owner.AddGradientTime(System.Diagnostics.Stopwatch.GetTimestamp() - clock);
        }
        catch (Exception e)
        {
            Failure ??= e;
        }
    }

    /// <summary>Starts the buckets not started yet and waits for all of them: the buffer then holds Σ gradient · rows.</summary>
    public void Finish()
    {
        if (Failure is { } failure)
            throw new InvalidOperationException($"Summing gradients during backward failed: {failure.Message}", failure);
        long clock = System.Diagnostics.Stopwatch.GetTimestamp();
        while (_started < _buckets.Length)
            StartBucket(_started++);
        for (int b = 0; b < _buckets.Length; b++)
        {
            using (_owner.Guard("wait for a gradient allreduce"))
                _owner.Communicator.Wait(_buckets[b].Request);
        }
        _owner.AddGradientTime(System.Diagnostics.Stopwatch.GetTimestamp() - clock);
    }

    /// <summary>Divides the sums by the global batch size and writes them into every variable's gradient.</summary>
    public void Apply(long globalCount)
    {
        float count = globalCount;
        var buffer = _buffer.AsSpan(0, (int)_offsets[^1]);
        for (int i = 0; i < buffer.Length; i++)
            buffer[i] /= count;
        using var _ = no_grad();
        for (int i = 0; i < _variables.Length; i++)
        {
            var v = _variables[i];
            var values = buffer.Slice((int)_offsets[i], (int)(_offsets[i + 1] - _offsets[i]));
            v.grad ??= zeros_like(v);
            if (v.grad.is_contiguous())
            {
                values.CopyTo(MemoryMarshal.Cast<byte, float>(v.grad.bytes));
            }
            else
            {
                using var staging = torch.tensor(values.ToArray(), v.shape);
                v.grad.copy_(staging);
            }
        }
    }

    /// <summary>Copies the bucket's gradients (times this rank's rows, or zeros) into the buffer and starts its sum.</summary>
    private void StartBucket(int b)
    {
        var bucket = _buckets[b];
        var slot = _buffer.AsSpan((int)bucket.Offset, bucket.Count);
        slot.Clear();
        if (_contributes)
        {
            long end = bucket.Offset + bucket.Count;
            for (int i = 0; i < _variables.Length; i++)
            {
                long from = Math.Max(_offsets[i], bucket.Offset), to = Math.Min(_offsets[i + 1], end);
                if (from >= to || _variables[i].grad is not { } g)
                    continue;
                using var contiguous = g.contiguous();
                var source = MemoryMarshal.Cast<byte, float>(contiguous.bytes).Slice((int)(from - _offsets[i]), (int)(to - from));
                var target = slot.Slice((int)(from - bucket.Offset), (int)(to - from));
                for (int k = 0; k < source.Length; k++)
                    target[k] = source[k] * _weight;
            }
        }
        using (_owner.Guard("start of a gradient allreduce"))
            _buckets[b] = bucket with { Request = _owner.Communicator.StartAllreduceSum(_pinned + bucket.Offset, bucket.Count) };
        _owner.CountGradientCall();
    }

    /// <summary>
    /// Inserts a mark on a layer's input (an identity in forward) whose backward calls <see cref="Ready"/> with that
    /// layer's position.
    /// </summary>
    public Tensor Mark(Tensor x, int layer) => GradientReadyFunction.apply(x, this, layer)[0];

    private sealed class GradientReadyFunction : autograd.MultiTensorFunction<GradientReadyFunction>
    {
        public override string Name => "SeqSharp.GradientReady";

        public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
        {
            ctx.save_data("reduction", vars[1]);
            ctx.save_data("layer", vars[2]);
            return [((Tensor)vars[0]).alias()];
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
        {
            ((GradientReduction)ctx.get_data("reduction")).Ready((int)ctx.get_data("layer"));
            return [gradOutputs[0], null!, null!];
        }
    }
}
