using SeqSharp.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp;

public partial class Model
{
    /// <summary>
    /// The weight penalties Keras 3 adds to the compiled loss (part of its <c>model.losses</c>): each
    /// trainable weight's regularizer, summed. Zero (a scalar) when the model has none. Training and
    /// evaluation steps add the activity penalties of their batch to this.
    /// </summary>
    /// <returns>A differentiable scalar, float32 unless the model's weights are float64.</returns>
    public Tensor RegularizationLoss()
    {
        Tensor? total = null;
        foreach (var layer in LayersAndWrapped())
        {
            foreach (var (weight, regularizer, _) in layer.RuledWeights())
            {
                // As Keras: only trainable weights are regularized (a frozen layer adds nothing).
                if (regularizer is null || !weight.requires_grad)
                    continue;
                var penalty = regularizer.Compute(weight);
                total = total is null ? penalty : total + penalty.to_type(total.dtype);
            }
        }
        return total ?? torch.zeros([], dtype: UniqueLayers.Count > 0 ? UniqueLayers[0].DType : ScalarType.Float32);
    }

    /// <summary>The compiled loss plus the penalties, as Keras's <c>compute_loss</c> adds them.</summary>
    private protected Tensor WithRegularization(Tensor loss, Regularizers.ActivityPenalties activity)
    {
        if (!HasRegularization())
            return loss;
        var total = loss + RegularizationLoss().to_type(loss.dtype);
        foreach (var penalty in activity.Penalties)
            total = total + penalty.to_type(loss.dtype);
        return total;
    }

    private bool HasRegularization() =>
        LayersAndWrapped().Any(l => l.ActivityRegularizer is not null || l.WeightRegularizers.Count > 0);

    /// <summary>Projects every trainable weight that has a constraint (Keras applies them after each optimizer step).</summary>
    private protected void ApplyConstraints()
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        foreach (var layer in LayersAndWrapped())
        {
            foreach (var (weight, _, constraint) in layer.RuledWeights())
            {
                if (constraint is not null && weight.requires_grad)
                    weight.copy_(constraint.Apply(weight));
            }
        }
    }

    /// <summary>The model's layers and, recursively, the layers they wrap.</summary>
    private protected IEnumerable<Layer> LayersAndWrapped()
    {
        var stack = new Stack<Layer>(UniqueLayers.AsEnumerable().Reverse());
        while (stack.Count > 0)
        {
            var layer = stack.Pop();
            yield return layer;
            foreach (var inner in layer.WrappedLayers)
                stack.Push(inner);
        }
    }
}
