import Testing
import Foundation
import NN
import Contrastive
@testable import Experiments

/// The message of the TrainConfigError thrown by `body` (nil when nothing or something else is thrown).
private func message(_ body: () throws -> Void) -> String? {
    do { try body() } catch let error as TrainConfigError { return error.description } catch { return nil }
    return nil
}

@Test func defaultsAreTheFullPresetOfTheArchitecture() throws {
    let config = try TrainConfig.preset("full")
    #expect(config == TrainConfig())
    #expect(config.dataset == "fashion-mnist" && config.epochs == 50 && config.batchSize == 256)
    #expect(config.queueSize == 4096 && config.temperature == 0.2 && config.momentum == 0.99)
    #expect(config.model.encoder == .convnetS && config.model.head == .mlp && config.lr == 0.06)
    #expect(config.weightDecay == 5e-4 && config.bnGroups == 8 && config.knn.k == 200 && config.knn.temperature == 0.1)
    #expect(config.histogram.transformedLower == -3 && config.histogram.transformedUpper == 1.5 && config.sampleEvery == 500)
    #expect(config.ft == .off && config.ft.alphaPositive == 2 && config.ft.alphaNegative == 1.6)
    #expect(config.learningRateSchedule == .cosine(warmupEpochs: 0))
}

@Test func mocoVersionChoosesHeadTemperatureRecipeAndSchedule() throws {
    let v1 = try TrainConfig.resolve(overrides: ["mocoVersion=v1"])
    #expect(v1.model.head == .linear && v1.temperature == 0.07 && v1.augmentation.recipe == .v1)
    #expect(v1.augmentation.blurProbability == 0)
    #expect(v1.learningRateSchedule == .step(milestones: [30, 40], gamma: 0.1))
    // An explicit key wins over the version default, in any order.
    let mixed = try TrainConfig.resolve(overrides: ["temperature=0.5", "mocoVersion=v1"])
    #expect(mixed.temperature == 0.5 && mixed.model.head == .linear)
}

@Test func presetsValidateAndCombine() throws {
    for name in TrainConfig.presetNames { _ = try TrainConfig.preset(name) }
    let smoke = try TrainConfig.preset("smoke")
    #expect(smoke.model.encoder == .convnetXS && smoke.dataset.hasPrefix("synthetic"))
    let quickPosNeg = try TrainConfig.resolve(presets: ["quick", "ft-posneg"])
    #expect(quickPosNeg.ft.positive == .extrapolate && quickPosNeg.ft.negative == .interpolate)
    #expect(quickPosNeg.dataset == "fashion-mnist?limit=10000")
    #expect(quickPosNeg.ft.alphaPositive == 2 && quickPosNeg.ft.queueMode == .replace)
    #expect(message { _ = try TrainConfig.resolve(presets: ["tiny"]) }?.contains("unknown preset 'tiny'") == true)
}

@Test func overridesSetDottedKeysWithTypes() throws {
    let config = try TrainConfig.resolve(presets: ["smoke"], overrides: [
        "momentum=0.9", "ft.positive=extrapolate", "ft.negative=interpolate", "ft.alphaNegative=4",
        "ft.granularity=sample", "ft.renormalize=both", "ft.queueMode=union", "ft.startEpoch=1",
        "knn.every=0", "linearProbe.enabled=false", "seed=18446744073709551615", "lrSchedule=step",
        "lrMilestones=1", "augmentation.blurProbability=0", "augmentation.cropScale=[0.5, 1]", "dataset=synthetic:64",
        "shuffleKeys=false", "model.head=linear",
    ])
    #expect(config.momentum == 0.9 && config.ft.positive == .extrapolate && config.ft.negative == .interpolate)
    #expect(config.ft.alphaNegative == 4 && config.ft.granularity == .sample && config.ft.renormalize == .both)
    #expect(config.ft.queueMode == .union && config.ft.startEpoch == 1 && config.knn.every == 0)
    #expect(!config.linearProbe.enabled && config.seed == UInt64.max && config.lrMilestones == [1])
    #expect(config.augmentation.blurProbability == 0 && config.augmentation.cropScale == 0.5...1)
    #expect(config.dataset == "synthetic:64" && !config.shuffleKeys && config.model.head == .linear)
    #expect(config.epochs == 2)                                  // untouched smoke values stay
}

@Test func badOverridesAreRefusedWithClearMessages() {
    #expect(message { _ = try TrainConfig.resolve(overrides: ["momentum"]) }?.contains("key=value") == true)
    let unknown = message { _ = try TrainConfig.resolve(overrides: ["ft.postive=extrapolate"]) }
    #expect(unknown?.contains("unknown key 'ft.postive'") == true && unknown?.contains("ft.positive") == true)
    #expect(message { _ = try TrainConfig.resolve(overrides: ["momentun=0.9"]) }?.contains("unknown key 'momentun'") == true)
    #expect(message { _ = try TrainConfig.resolve(overrides: ["ft=none"]) }?.contains("is a group") == true)
    #expect(message { _ = try TrainConfig.resolve(overrides: ["momentum=high"]) }?.contains("expected a number") == true)
    #expect(message { _ = try TrainConfig.resolve(overrides: ["splitBN=yes"]) }?.contains("true or false") == true)
    let encoder = message { _ = try TrainConfig.resolve(overrides: ["model.encoder=resnet50"]) }
    #expect(encoder?.contains("model.encoder") == true && encoder?.contains("convnet-s, convnet-xs") == true)
    let integer = message { _ = try TrainConfig.resolve(overrides: ["batchSize=12.5"]) }
    #expect(integer?.contains("'batchSize': '12.5' is not valid; expected a whole number") == true, "\(integer ?? "")")
    #expect(message { _ = try TrainConfig.resolve(overrides: ["seed=-1"]) }?.contains("'seed': '-1'") == true)
    #expect(message { _ = try TrainConfig.resolve(overrides: ["ft.queueMode=both"]) }?.contains("replace, union") == true)
}

@Test func validationNamesTheKeyAndTheProblem() {
    let cases: [([String], String)] = [
        (["momentum=1.5"], "'momentum': the key momentum must lie in [0, 1], got 1.5"),
        (["momentum=-0.1"], "must lie in [0, 1]"),
        (["temperature=0"], "'temperature': τ must be > 0"),
        (["queueSize=128"], "'queueSize': K = 128 is smaller than the batch size 256"),
        (["bnGroups=7"], "'bnGroups': 7 groups do not divide the batch size 256"),
        (["batchSize=8", "queueSize=8", "bnGroups=8"], "fewer than 2 images per group"),
        (["dataset=imagenet"], "'dataset'"),
        (["epochs=0"], "'epochs'"),
        (["lr=0"], "'lr'"),
        (["ft.alphaPositive=0"], "'ft.alphaPositive'"),
        (["ft.positive=extrapolate", "ft.startEpoch=50"], "would never act"),
        (["histogram.lower=1"], "'histogram.lower'"),
        (["augmentation.blurProbability=2"], "'augmentation'"),
        (["lrSchedule=step", "lrMilestones=[40,30]"], "'lrMilestones'"),
        (["knn.k=0"], "'knn.k'"),
    ]
    for (overrides, expected) in cases {
        let text = message { _ = try TrainConfig.resolve(overrides: overrides) }
        #expect(text?.contains(expected) == true, "\(overrides): \(text ?? "no error")")
    }
    // A split BN switched off does not need the groups to divide the batch.
    #expect(message { _ = try TrainConfig.resolve(overrides: ["bnGroups=7", "splitBN=false"]) } == nil)
}

@Test func configFilesArePatchesWithCheckedKeys() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("traincfg-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let good = directory.appendingPathComponent("good.json").path
    try #"{"momentum": 0.9, "ft": {"positive": "extrapolate"}, "knn": {"k": 50}}"#.write(toFile: good, atomically: true, encoding: .utf8)
    let config = try TrainConfig.resolve(presets: ["quick"], configFile: good, overrides: ["knn.k=60"])
    #expect(config.momentum == 0.9 && config.ft.positive == .extrapolate && config.knn.k == 60)
    #expect(config.model.encoder == .convnetXS)                           // preset < file < --set
    let typo = directory.appendingPathComponent("typo.json").path
    try #"{"ft": {"alpha_pos": 2}}"#.write(toFile: typo, atomically: true, encoding: .utf8)
    #expect(message { _ = try TrainConfig.resolve(configFile: typo) }?.contains("unknown key 'ft.alpha_pos'") == true)
    let broken = directory.appendingPathComponent("broken.json").path
    try "{momentum: 0.9".write(toFile: broken, atomically: true, encoding: .utf8)
    #expect(message { _ = try TrainConfig.resolve(configFile: broken) }?.contains("not valid JSON") == true)
    #expect(message { _ = try TrainConfig.resolve(configFile: directory.appendingPathComponent("missing.json").path) }?.contains("cannot be read") == true)
}

@Test func resolvedJSONRoundTripsExactly() throws {
    let config = try TrainConfig.resolve(presets: ["quick", "ft-posneg"], overrides: ["seed=12345678901234567890", "momentum=0.999"])
    let json = config.jsonString()
    let back = try TrainConfig.decode(json: json)
    #expect(back == config)
    #expect(back.jsonString() == json)
    #expect(json.contains("\"ft\":{") && json.contains("\"seed\":12345678901234567890"))
}

@Test func conversionsFeedTheLearner() throws {
    let config = try TrainConfig.resolve(presets: ["smoke", "ft-posneg"], overrides: ["splitBN=false"])
    let moco = config.mocoConfiguration(inputChannels: 1, inputHeight: 16, inputWidth: 16)
    #expect(moco.model.encoder == .convnetXS && moco.model.inputHeight == 16 && moco.queueSize == 128)
    #expect(moco.batchNormGroups == 1 && moco.transform == config.ft && moco.temperature == Float(0.2))
    #expect(config.knnMonitor.neighbors == 20 && config.probe.iterations == 20)
    #expect(TrainConfig.keyPaths.contains("ft.queueMode") && TrainConfig.keyPaths.contains("augmentation.recipe"))
}
