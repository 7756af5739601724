namespace SeqSharp.Tests.TestSupport;

/// <summary>
/// Tests that use process-wide state, the console or TorchSharp's global random generator: xunit runs
/// them one at a time, after the parallel test classes, so no other test writes to the console or
/// draws random numbers meanwhile.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalStateCollection
{
    public const string Name = "Global state (console, random seed)";
}
