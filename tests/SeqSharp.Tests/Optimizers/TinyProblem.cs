using TorchSharp.Modules;

namespace SeqSharp.Tests.Optimizers;

/// <summary>
/// A fixed regression problem, <c>loss = mean((tanh(x · kernel + bias) - y)²)</c>, whose gradients
/// come from LibTorch's autograd. Its parameters are a <c>(3, 2)</c> kernel, a <c>(2)</c> bias and,
/// optionally, a <c>(2)</c> vector the loss does not use (so its <c>.grad</c> stays null).
/// </summary>
internal static class TinyProblem
{
    private static readonly double[] X = [0.5, -1.2, 0.3, 1.5, 0.2, -0.7, -0.4, 0.9, 1.1, 0.8, -0.3, -1.6];
    private static readonly double[] Y = [0.9, -0.4, -0.8, 0.6, 0.3, 0.1, -0.5, -0.9];
    private static readonly long[][] Shapes = [[3, 2], [2], [2]];

    /// <summary>Initial values of the kernel, the bias and the unused vector, flattened.</summary>
    public static double[][] InitialValues(bool withUnused) => withUnused
        ? [[0.3, -0.2, 0.5, 0.1, -0.4, 0.6], [0.05, -0.1], [0.7, -0.3]]
        : [[0.3, -0.2, 0.5, 0.1, -0.4, 0.6], [0.05, -0.1]];

    /// <summary>Fresh parameters with <see cref="InitialValues"/>.</summary>
    public static Parameter[] CreateParameters(bool withUnused = false, ScalarType dtype = ScalarType.Float64) =>
        InitialValues(withUnused).Select((v, i) => new Parameter(tensor(v, Shapes[i]).to_type(dtype))).ToArray();

    /// <summary>Zeroes the existing gradients and back-propagates the loss into the parameters' <c>.grad</c>.</summary>
    public static void Backward(IReadOnlyList<Parameter> parameters)
    {
        foreach (var p in parameters)
            p.grad?.zero_();
        Loss(parameters[0], parameters[1]).backward();
    }

    /// <summary>The gradients at the given (flattened) kernel and bias values, in double precision;
    /// null for the unused vector.</summary>
    public static double[]?[] Gradients(double[][] values)
    {
        var kernel = tensor(values[0], Shapes[0]).requires_grad_(true);
        var bias = tensor(values[1], Shapes[1]).requires_grad_(true);
        var grads = autograd.grad([Loss(kernel, bias)], [kernel, bias]);
        var result = new double[]?[values.Length];
        result[0] = grads[0].data<double>().ToArray();
        result[1] = grads[1].data<double>().ToArray();
        return result;
    }

    private static Tensor Loss(Tensor kernel, Tensor bias)
    {
        var x = tensor(X, [4, 3]).to_type(kernel.dtype);
        var y = tensor(Y, [4, 2]).to_type(kernel.dtype);
        return (x.matmul(kernel).add(bias).tanh() - y).square().mean();
    }
}
