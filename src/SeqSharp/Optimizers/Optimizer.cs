using SeqSharp.Optimizers.Schedules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Optimizers;

/// <summary>
/// The base of every optimizer (Keras <c>keras.optimizers.Optimizer</c>). It owns the update loop:
/// on each <see cref="Step"/> it skips variables without a gradient, clips the gradients, applies
/// weight decay, lets the subclass update each variable, then counts the step. A subclass only
/// creates its per-variable state (<see cref="BuildSlots"/>) and updates one variable (<see cref="UpdateStep"/>).
/// </summary>
/// <remarks>
/// <para>Formulas and defaults follow Keras 3, not <c>torch.optim</c> (Adam's epsilon, for one, is
/// added to <c>sqrt(v)</c> after bias correction of the step size, not of the moments).</para>
/// <para>Per step, with <c>lr = Schedule.Evaluate(Iterations)</c>:
/// <list type="number">
/// <item><description>Clipping (at most one kind): <c>clipnorm</c> rescales each gradient to an L2 norm of at most
/// <c>clipnorm</c>; <c>globalClipnorm</c> rescales all gradients together so that their joint norm is at most
/// <c>globalClipnorm</c>; <c>clipvalue</c> clamps each element to <c>[-clipvalue, clipvalue]</c>.</description></item>
/// <item><description>Weight decay: <c>w ← w - w * weightDecay * lr</c> for each variable with a gradient.</description></item>
/// <item><description>The subclass's update with the clipped gradient, then <see cref="Iterations"/> grows by one.</description></item>
/// </list></para>
/// <para>The variable's <c>.grad</c> is only read; updates run in place under <c>no_grad</c>, in the
/// variable's own element type.</para>
/// </remarks>
/// <example>
/// <code>
/// var optimizer = new Adam(learningRate: 1e-3, globalClipnorm: 1.0);
/// loss.backward();
/// optimizer.Step(parameters);   // parameters: IReadOnlyList&lt;Parameter&gt;
/// </code>
/// </example>
public abstract class Optimizer
{
    private LearningRateSchedule _schedule;
    private readonly List<Tensor> _slots = [];
    private (long[] Shape, ScalarType DType)[]? _built;

    /// <summary>Validates and stores the arguments every optimizer shares.</summary>
    /// <param name="name">The optimizer's name, non-empty.</param>
    /// <param name="learningRate">A rate or schedule; null for <paramref name="defaultLearningRate"/>.</param>
    /// <param name="defaultLearningRate">The subclass's default rate.</param>
    /// <param name="weightDecay">The decoupled weight decay factor, finite and non-negative; null for none.</param>
    /// <param name="clipnorm">The per-gradient norm limit, positive; null for none.</param>
    /// <param name="clipvalue">The per-element limit, positive; null for none.</param>
    /// <param name="globalClipnorm">The joint norm limit of all gradients, positive; null for none.</param>
    /// <exception cref="ArgumentException">An empty name, or more than one clipping argument set.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value outside the ranges above.</exception>
    protected Optimizer(string name, LearningRateSchedule? learningRate, double defaultLearningRate,
        double? weightDecay, double? clipnorm, double? clipvalue, double? globalClipnorm)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException($"Expected a non-empty optimizer name. Received: name='{name}'.", nameof(name));
        int clipArguments = (clipnorm is null ? 0 : 1) + (clipvalue is null ? 0 : 1) + (globalClipnorm is null ? 0 : 1);
        if (clipArguments > 1)
            throw new ArgumentException(
                "Only one of clipnorm, clipvalue and globalClipnorm can be set. " +
                $"Received: clipnorm={Text(clipnorm)}, clipvalue={Text(clipvalue)}, globalClipnorm={Text(globalClipnorm)}.");
        if (weightDecay is double wd)
            Require.NonNegative(wd, nameof(weightDecay));
        Name = name;
        _schedule = learningRate ?? new ConstantSchedule(defaultLearningRate);
        WeightDecay = weightDecay;
        Clipnorm = Require.PositiveOrNull(clipnorm, nameof(clipnorm));
        Clipvalue = Require.PositiveOrNull(clipvalue, nameof(clipvalue));
        GlobalClipnorm = Require.PositiveOrNull(globalClipnorm, nameof(globalClipnorm));
    }

    /// <summary>The optimizer's name (<c>"adam"</c>, <c>"rmsprop"</c>, ... by default).</summary>
    public string Name { get; }

    /// <summary>
    /// The learning rate of the next step, <c>Schedule.Evaluate(Iterations)</c>. Setting it replaces a
    /// <see cref="ConstantSchedule"/> with a new constant; an optimizer built with another schedule has no
    /// settable rate (Keras raises a <c>TypeError</c>).
    /// </summary>
    /// <exception cref="InvalidOperationException">Set while <see cref="Schedule"/> is not a <see cref="ConstantSchedule"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative, infinite or NaN value.</exception>
    public double LearningRate
    {
        get => _schedule.Evaluate(Iterations);
        set
        {
            if (_schedule is not ConstantSchedule)
                throw new InvalidOperationException(
                    $"Optimizer '{Name}' was created with a {_schedule.ClassName} schedule as its learning rate, so its learning rate " +
                    "cannot be set. Create the optimizer with a number as learningRate to make the rate settable.");
            if (!(double.IsFinite(value) && value >= 0))
                throw new ArgumentOutOfRangeException(nameof(LearningRate), value,
                    $"Expected a finite, non-negative learning rate. Received: LearningRate={value}.");
            _schedule = new ConstantSchedule(value);
        }
    }

    /// <summary>The learning-rate schedule; a <see cref="ConstantSchedule"/> when a number was given.</summary>
    public LearningRateSchedule Schedule => _schedule;

    /// <summary>The number of steps applied so far.</summary>
    public long Iterations { get; private set; }

    /// <summary>The decoupled weight decay factor, or null.</summary>
    public double? WeightDecay { get; }

    /// <summary>The per-gradient L2 norm limit, or null.</summary>
    public double? Clipnorm { get; }

    /// <summary>The per-element gradient limit, or null.</summary>
    public double? Clipvalue { get; }

    /// <summary>The joint L2 norm limit of all gradients, or null.</summary>
    public double? GlobalClipnorm { get; }

    /// <summary>The Keras class name, e.g. <c>Adam</c>.</summary>
    public virtual string ClassName => GetType().Name;

    /// <summary>Whether the per-variable state exists (after <see cref="Build"/> or the first <see cref="Step"/>).</summary>
    public bool Built => _built is not null;

    /// <summary>
    /// A snapshot of the optimizer's state, in Keras's order: the iteration count (an <c>int64</c>
    /// scalar), the learning rate (a <c>float64</c> scalar, only with a <see cref="ConstantSchedule"/>),
    /// then the subclass's per-variable state (e.g. Adam's momentum and velocity of each variable).
    /// The per-variable state exists after <see cref="Build"/> or the first <see cref="Step"/>.
    /// The tensors are copies; restore them with <see cref="SetVariables"/>.
    /// </summary>
    public IReadOnlyList<Tensor> Variables
    {
        get
        {
            using var _ = torch.no_grad();
            var values = new List<Tensor> { torch.tensor(Iterations, ScalarType.Int64) };
            if (_schedule is ConstantSchedule constant)
                values.Add(torch.tensor(constant.Value, ScalarType.Float64));
            values.AddRange(_slots.Select(s => s.detach().clone()));
            return values;
        }
    }

    /// <summary>
    /// Restores state taken from <see cref="Variables"/> of an optimizer of the same kind and options,
    /// built for variables of the same shapes. Everything is checked before anything is written.
    /// </summary>
    /// <param name="values">The tensors, in the order of <see cref="Variables"/>.</param>
    /// <exception cref="InvalidOperationException">The values include per-variable state, but this optimizer is not built yet.</exception>
    /// <exception cref="ArgumentException">Wrong number of tensors, a wrong shape, or an invalid iteration count or learning rate.</exception>
    public void SetVariables(IReadOnlyList<Tensor> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int counters = _schedule is ConstantSchedule ? 2 : 1;
        if (_built is null && values.Count > counters)
            throw new InvalidOperationException(
                $"Optimizer '{Name}' has no per-variable state yet, so {values.Count} tensors cannot be restored. " +
                "Call Build(variables) (or Step) with the model's variables first.");
        int expected = counters + _slots.Count;
        if (values.Count != expected)
            throw new ArgumentException(
                $"Optimizer '{Name}' has {expected} state tensors ({counters} counters and {_slots.Count} per-variable); received {values.Count}.", nameof(values));
        for (int i = 0; i < values.Count; i++)
        {
            if (values[i] is null)
                throw new ArgumentException($"State tensor {i} is null.", nameof(values));
        }

        long iterations = Scalar(values[0]) is double count && count >= 0 && count == Math.Floor(count) && count < long.MaxValue
            ? (long)count
            : throw new ArgumentException($"State tensor 0 must be a non-negative whole iteration count. Received: {Describe(values[0])}.", nameof(values));
        double? rate = null;
        if (counters == 2)
        {
            rate = Scalar(values[1]) is double lr && double.IsFinite(lr) && lr >= 0
                ? lr
                : throw new ArgumentException($"State tensor 1 must be a finite, non-negative learning rate. Received: {Describe(values[1])}.", nameof(values));
        }
        for (int i = 0; i < _slots.Count; i++)
        {
            var value = values[counters + i];
            if (!value.shape.SequenceEqual(_slots[i].shape))
                throw new ArgumentException(
                    $"State tensor {counters + i} of optimizer '{Name}' has shape {Shape(_slots[i].shape)}; received shape {Shape(value.shape)}.", nameof(values));
        }

        using (torch.no_grad())
        {
            for (int i = 0; i < _slots.Count; i++)
                _slots[i].copy_(values[counters + i]);
        }
        Iterations = iterations;
        if (rate is double r)
            _schedule = new ConstantSchedule(r);
    }

    /// <summary>
    /// Creates the per-variable state for <paramref name="variables"/> (Keras <c>optimizer.build</c>);
    /// <see cref="Step"/> does this on its first call. Once built, the optimizer only accepts variables
    /// of the same number, shapes and element types, in the same order.
    /// </summary>
    /// <param name="variables">The trainable variables, each floating-point.</param>
    /// <exception cref="ArgumentException">A null or non-floating-point variable.</exception>
    /// <exception cref="InvalidOperationException">Already built for different variables.</exception>
    public void Build(IReadOnlyList<Parameter> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        for (int i = 0; i < variables.Count; i++)
        {
            if (variables[i] is null)
                throw new ArgumentException($"Variable {i} is null.", nameof(variables));
            if (!variables[i].is_floating_point())
                throw new ArgumentException($"Expected floating-point variables. Received: variable {i} of type {variables[i].dtype}.", nameof(variables));
        }
        var signature = variables.Select(v => (v.shape, v.dtype)).ToArray();
        if (_built is not null)
        {
            if (!SameSignature(_built, signature))
                throw new InvalidOperationException(
                    $"Optimizer '{Name}' was built for {_built.Length} variables {Signature(_built)}; received {signature.Length} variables " +
                    $"{Signature(signature)}. An optimizer can only update the variables it was built with; create a new optimizer for new variables.");
            return;
        }
        try
        {
            BuildSlots(variables);
        }
        catch
        {
            foreach (var slot in _slots)
                slot.Dispose();
            _slots.Clear();
            throw;
        }
        _built = signature;
    }

    /// <summary>
    /// Applies one update to every variable whose <c>.grad</c> is not null, as described on
    /// <see cref="Optimizer"/>, and counts the step. An empty list does nothing.
    /// </summary>
    /// <param name="variables">The trainable variables, in the same order at every call.</param>
    /// <exception cref="ArgumentException">No variable has a gradient, or a variable is null or not floating-point.</exception>
    /// <exception cref="InvalidOperationException">The optimizer was built for other variables (count, shapes or types).</exception>
    public void Step(IReadOnlyList<Parameter> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        if (variables.Count == 0)
            return;
        Build(variables);
        double learningRate = LearningRate;
        using (torch.no_grad())
        using (torch.NewDisposeScope())
        {
            var indices = new List<int>(variables.Count);
            var gradients = new List<Tensor>(variables.Count);
            for (int i = 0; i < variables.Count; i++)
            {
                var grad = variables[i].grad;
                if (grad is null)
                    continue;
                indices.Add(i);
                gradients.Add(grad.dtype == variables[i].dtype ? grad : grad.to_type(variables[i].dtype));
            }
            if (indices.Count == 0)
                throw new ArgumentException(
                    $"No gradients provided for any of the {variables.Count} variables: call backward() on the loss before Step().", nameof(variables));

            var clipped = Clip(gradients);
            if (WeightDecay is double wd)
            {
                foreach (int i in indices)
                    variables[i].mul_(1 - wd * learningRate);
            }
            BeginStep();
            for (int k = 0; k < indices.Count; k++)
                UpdateStep(clipped[k], variables[indices[k]], indices[k], learningRate);
        }
        Iterations++;
    }

    /// <summary>
    /// Creates the subclass's per-variable state with <see cref="AddVariable"/>, in Keras's order
    /// (which fixes the order of <see cref="Variables"/>). Called once, by <see cref="Build"/>.
    /// </summary>
    /// <param name="variables">The trainable variables.</param>
    protected abstract void BuildSlots(IReadOnlyList<Parameter> variables);

    /// <summary>
    /// Called once per step, after clipping and weight decay and before the first <see cref="UpdateStep"/>,
    /// for state shared by all variables (Nadam's momentum-schedule product). Runs under <c>no_grad</c>
    /// inside a dispose scope; <see cref="Iterations"/> still counts the steps before this one. Does nothing by default.
    /// </summary>
    protected virtual void BeginStep()
    {
    }

    /// <summary>
    /// Updates one variable in place. Runs under <c>no_grad</c> inside a dispose scope, so
    /// temporaries need no disposing; <see cref="Iterations"/> still counts the steps before this one.
    /// </summary>
    /// <param name="gradient">The clipped gradient, in the variable's element type; do not modify it.</param>
    /// <param name="variable">The variable, already weight-decayed.</param>
    /// <param name="index">The variable's position in the list passed to <see cref="Step"/>, to find its state.</param>
    /// <param name="learningRate">The learning rate of this step.</param>
    protected abstract void UpdateStep(Tensor gradient, Tensor variable, int index, double learningRate);

    /// <summary>
    /// Creates a state tensor shaped, typed and placed like <paramref name="reference"/>, filled with
    /// <paramref name="initialValue"/>, and appends it to <see cref="Variables"/>. The tensor lives as
    /// long as the optimizer (it is kept out of any dispose scope).
    /// </summary>
    /// <param name="reference">The variable the state belongs to.</param>
    /// <param name="initialValue">The initial value of every element. Default 0.</param>
    protected Tensor AddVariable(Tensor reference, double initialValue = 0.0)
    {
        ArgumentNullException.ThrowIfNull(reference);
        using var _ = torch.no_grad();
        var slot = torch.full(reference.shape, initialValue, dtype: reference.dtype, device: reference.device).DetachFromDisposeScope();
        _slots.Add(slot);
        return slot;
    }

    /// <summary>
    /// The constructor arguments by their Keras names: <c>name</c>, <c>learning_rate</c> (a number for a
    /// constant rate, otherwise <c>{"class_name": ..., "config": {...}}</c>), <c>weight_decay</c>,
    /// <c>clipnorm</c>, <c>global_clipnorm</c>, <c>clipvalue</c>, and the subclass's own keys.
    /// </summary>
    public virtual Dictionary<string, object?> GetConfig() => new()
    {
        ["name"] = Name,
        ["learning_rate"] = _schedule is ConstantSchedule constant
            ? constant.Value
            : new Dictionary<string, object?> { ["class_name"] = _schedule.ClassName, ["config"] = _schedule.GetConfig() },
        ["weight_decay"] = WeightDecay,
        ["clipnorm"] = Clipnorm,
        ["global_clipnorm"] = GlobalClipnorm,
        ["clipvalue"] = Clipvalue,
    };

    /// <summary>
    /// Rebuilds an optimizer from its Keras class name and config (what <see cref="GetConfig"/>
    /// returns, or Keras's <c>optimizer.get_config()</c> read from JSON): Keras's <c>cls(**config)</c>.
    /// </summary>
    /// <remarks>
    /// Keras 2's <c>lr</c> is read as <c>learning_rate</c>. Keys of Keras features SeqSharp lacks are
    /// accepted with their "off" values only: <c>use_ema=false</c>, <c>ema_overwrite_frequency</c>,
    /// <c>loss_scale_factor</c> and <c>gradient_accumulation_steps</c> null, Keras 2's <c>decay=0</c>;
    /// <c>ema_momentum</c>, <c>is_legacy_optimizer</c> and <c>jit_compile</c> are ignored.
    /// </remarks>
    /// <param name="className">The Keras class name: <c>"Adam"</c>, <c>"AdamW"</c>, <c>"RMSprop"</c>, <c>"SGD"</c>, <c>"Adagrad"</c>.</param>
    /// <param name="config">The config; values may be CLR values or <c>JsonElement</c>s.</param>
    /// <returns>A new, unbuilt optimizer.</returns>
    /// <exception cref="ArgumentException">An unknown class (the message lists the known ones), an unknown key, or an invalid value.</exception>
    /// <exception cref="NotSupportedException">The config turns on a Keras feature SeqSharp lacks, e.g. <c>use_ema=true</c>.</exception>
    /// <example>
    /// <code>
    /// var copy = Optimizer.FromConfig(adam.ClassName, adam.GetConfig());
    /// </code>
    /// </example>
    public static Optimizer FromConfig(string className, IReadOnlyDictionary<string, object?> config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var values = new Dictionary<string, object?>(config, StringComparer.Ordinal);
        if (values.Remove("lr", out var lr) && !values.ContainsKey("learning_rate"))
            values["learning_rate"] = lr;
        return Saving.ConfigActivator.Create<Optimizer>("Optimizer", className, values,
            Saving.ConfigActivator.Ignorable.Bool("use_ema", false),
            Saving.ConfigActivator.Ignorable.Any("ema_momentum"),
            Saving.ConfigActivator.Ignorable.Null("ema_overwrite_frequency"),
            Saving.ConfigActivator.Ignorable.Null("loss_scale_factor"),
            Saving.ConfigActivator.Ignorable.Null("gradient_accumulation_steps"),
            Saving.ConfigActivator.Ignorable.Any("is_legacy_optimizer"),
            Saving.ConfigActivator.Ignorable.Any("jit_compile"),
            new Saving.ConfigActivator.Ignorable("decay", v => v is null or 0L or 0.0, "0"));
    }

    /// <summary>
    /// A new optimizer with default arguments for a Keras name, ignoring case:
    /// <c>"adam"</c>, <c>"adamw"</c>, <c>"adamax"</c>, <c>"nadam"</c>, <c>"rmsprop"</c>, <c>"sgd"</c>, <c>"adagrad"</c>, <c>"adadelta"</c>, <c>"lion"</c>, <c>"ftrl"</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static Optimizer Get(string name) => OptimizerRegistry.Get(name);

    /// <summary>Converts a Keras optimizer name (see <see cref="Get"/>).</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static implicit operator Optimizer(string name) => Get(name);

    private Tensor[] Clip(List<Tensor> gradients)
    {
        if (Clipnorm is double clipnorm)
        {
            return gradients.Select(g =>
            {
                double norm = Math.Sqrt(g.square().sum().ToDouble());
                return g.mul(clipnorm).div_(Math.Max(norm, clipnorm));
            }).ToArray();
        }
        if (GlobalClipnorm is double globalClipnorm)
        {
            double norm = Math.Sqrt(gradients.Sum(g => g.square().sum().ToDouble()));
            // As Keras: 1 when the norm is within the limit, NaN (poisoning the update) when it is not finite.
            double scale = globalClipnorm * Math.Min(1.0 / norm, 1.0 / globalClipnorm) + (norm - norm);
            return gradients.Select(g => g.mul(scale)).ToArray();
        }
        if (Clipvalue is double clipvalue)
            return gradients.Select(g => g.clamp(-clipvalue, clipvalue)).ToArray();
        return [.. gradients];
    }

    private static double? Scalar(Tensor value)
    {
        if (value.numel() != 1)
            return null;
        using var asDouble = value.to_type(ScalarType.Float64);
        return asDouble.ToDouble();
    }

    private static bool SameSignature((long[] Shape, ScalarType DType)[] a, (long[] Shape, ScalarType DType)[] b) =>
        a.Length == b.Length && a.Zip(b).All(p => p.First.Shape.SequenceEqual(p.Second.Shape) && p.First.DType == p.Second.DType);

    private static string Signature((long[] Shape, ScalarType DType)[] signature) =>
        "[" + string.Join(", ", signature.Select(s => $"{Shape(s.Shape)} {s.DType}")) + "]";

    private static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";

    private static string Describe(Tensor value) =>
        Scalar(value) is double number ? $"{number} ({value.dtype})" : $"a tensor of shape {Shape(value.shape)}";

    private static string Text(double? value) => value?.ToString() ?? "null";
}
