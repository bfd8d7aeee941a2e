// TrainConfig+Presets: named sparse patches over the defaults. `full` is the defaults (architecture.md);
// `smoke` and `quick` shrink data, model and epochs; the FT presets only set `ft.*`, so they combine with any
// base (`--preset quick --preset ft-posneg`); alone they apply to the defaults.
// Tuning `quick`: its size is set by the dataset limit, batch and epochs below; measured cost is in the
// comment beside it.
// Deliberately not here: sweeps over presets (the sweep definitions list configs of their own).

extension TrainConfig {
    /// Preset names in the order they are listed in help texts.
    public static let presetNames = ["smoke", "quick", "full", "ft-none", "ft-pos", "ft-neg", "ft-posneg"]

    /// One line per preset, for help texts.
    public static let presetSummaries: [String: String] = [
        "smoke": "256 synthetic 16×16 images, convnet-xs, 16 steps (tests)",
        "quick": "Fashion-MNIST 10k subset, convnet-xs, 8 epochs (~2 min)",
        "full": "the defaults: Fashion-MNIST, convnet-s, 50 epochs",
        "ft-none": "FT off (combine: --preset quick --preset ft-none)",
        "ft-pos": "positive extrapolation only, λ = 1 + Beta(2, 2)",
        "ft-neg": "negative interpolation only, λ = Beta(1.6, 1.6)",
        "ft-posneg": "both (the paper's recipe)",
    ]

    /// The sparse JSON patch of each preset.
    static let presetPatches: [String: ConfigValue] = [
        // Seconds, also in debug builds (tests): 256 synthetic 16×16 images, convnet-xs, 2 epochs of 8 steps.
        // Measured (trainer branch, loaded 2-core machine): a whole smoke run ≈ 4 s in a debug build (≈ 230 ms per
        // step, kNN and probe included), well under a second in release.
        "smoke": .object([
            "dataset": .string("synthetic:256?size=16"),
            "epochs": .int(2),
            "batchSize": .int(32),
            "queueSize": .int(128),
            "bnGroups": .int(4),
            "model": .object(["encoder": .string("convnet-xs")]),
            "knn": .object(["k": .int(20)]),
            "linearProbe": .object(["iterations": .int(20)]),
            "sampleEvery": .int(4),
        ]),
        // Fashion-MNIST subset, convnet-xs: the run of momentum sweeps. Aim: ≤ ~2 min a run on one core, so that
        // a 5-run sweep at 2 jobs fits in ~6 min. Measured (release, 1 thread, loaded machine): 91 s alone, ~125 s
        // with a second run beside it (312 steps at ~3 steps/s, 9 kNN evaluations of 10k vs 10k images, probe).
        // kNN of the untrained encoder at step 0 (knn.atStart) gives every run its own baseline (≈ 2 s).
        // Tried: batch 128 (+1 kNN point, ~10 % slower), lr 0.12 (no gain).
        "quick": .object([
            "dataset": .string("fashion-mnist?limit=10000"),
            "epochs": .int(8),
            "model": .object(["encoder": .string("convnet-xs")]),
            "knn": .object(["every": .int(1), "atStart": .bool(true)]),
            "linearProbe": .object(["iterations": .int(100)]),
            "sampleEvery": .int(50),
        ]),
        // The defaults of architecture.md: Fashion-MNIST, convnet-s, 50 epochs.
        "full": .object([:]),
        "ft-none": .object(["ft": .object(["positive": .string("none"), "negative": .string("none")])]),
        "ft-pos": .object(["ft": .object(["positive": .string("extrapolate"), "negative": .string("none")])]),
        "ft-neg": .object(["ft": .object(["positive": .string("none"), "negative": .string("interpolate")])]),
        "ft-posneg": .object(["ft": .object(["positive": .string("extrapolate"), "negative": .string("interpolate")])]),
    ]

    /// The config of one preset (validated).
    public static func preset(_ name: String) throws -> TrainConfig {
        try resolve(presets: [name])
    }
}
