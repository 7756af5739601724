using SeqSharp.Optimizers.Schedules;

namespace SeqSharp.Tests.Optimizers.Schedules;

public class LearningRateScheduleTests
{
    [Fact]
    public void ImplicitConversion_Double_GivesConstantSchedule()
    {
        LearningRateSchedule schedule = 0.05;
        var constant = Assert.IsType<ConstantSchedule>(schedule);
        Assert.Equal(0.05, constant.Value);
    }

    [Fact]
    public void ImplicitConversion_NegativeDouble_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => { LearningRateSchedule schedule = -1.0; });
    }

    [Fact]
    public void Subclass_CustomSchedule_UsesTypeNameAsClassName()
    {
        var schedule = new InverseStep(1.0);
        Assert.Equal("InverseStep", schedule.ClassName);
        Assert.Equal(0.25, schedule.Evaluate(3));
    }

    private sealed class InverseStep(double initial) : LearningRateSchedule
    {
        public override double Evaluate(long step) => initial / (step + 1);

        public override Dictionary<string, object?> GetConfig() => new() { ["initial"] = initial };
    }
}
