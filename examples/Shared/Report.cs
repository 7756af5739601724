using static TorchSharp.torch;

namespace SeqSharp.Examples;

/// <summary>What the introductory examples print after training.</summary>
public static class Report
{
    /// <summary>The history per epoch, test scores against two baselines, and a few predictions.</summary>
    public static void Print(History history, Sequential model, Tensor xTest, Tensor yTest)
    {
        Console.WriteLine();
        Console.WriteLine("epoch   loss      val_loss");
        for (int e = 0; e < history.Epochs.Count; e++)
            Console.WriteLine($"{e + 1,5}   {history["loss"][e],-8:F5}  {history["val_loss"][e]:F5}");

        var scores = model.Evaluate(xTest, yTest, verbose: 0);
        Console.WriteLine();
        Console.WriteLine($"Test MSE {scores["loss"]:F5}, MAE {scores["mae"]:F5}");
        Console.WriteLine($"Naive 'next = current' MSE {SineWaveData.PersistenceMse(xTest, yTest):F5}; variance of the targets {yTest.var().item<float>():F5}");

        var predicted = model.Predict(xTest[..3], verbose: 0);
        Console.WriteLine();
        Console.WriteLine("Last step of three test sequences: input, predicted next value, true next value");
        for (int i = 0; i < 3; i++)
            Console.WriteLine($"  {xTest[i, -1, 0].item<float>(),7:F3}  {predicted[i, -1, 0].item<float>(),7:F3}  {yTest[i, -1, 0].item<float>(),7:F3}");
    }
}
