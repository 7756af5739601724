// Tests seed TorchSharp's global random generator (manual_seed / Utils.SetRandomSeed) and draw
// from it; test classes running in parallel would draw each other's numbers and make seeded
// tests nondeterministic. Run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
