// swift-tools-version:6.0
// scorescope: score distributions of contrastive learners (MoCo + feature transformations).
// Module graph and rules: see README.md ("Layout") and the dependency table there.
import PackageDescription
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// Release builds of the root package: -Ounchecked for the numeric targets, and the x86-64 level for Swift and C
// code generation. The level is x86-64-v3 (AVX2 + FMA, runs on any x86 CPU of the last decade) unless the
// environment variable SCORESCOPE_CPU says x86-64-v4 (AVX-512: `make release` picks it when the build machine has
// AVX-512; measured on the benchmark machine: `bench step` 4 % faster). Only the numeric targets get v4; the
// executable stays v3, so it can refuse to start, with a message, on a CPU without AVX-512
// (Sources/scorescope/CPULevel.swift). (unsafeFlags are only allowed in the root package, which is what we are.)
let cpuLevel = Context.environment["SCORESCOPE_CPU"].flatMap { $0.isEmpty ? nil : $0 } ?? "x86-64-v3"
guard cpuLevel == "x86-64-v3" || cpuLevel == "x86-64-v4" else {
    let message = "error: SCORESCOPE_CPU must be x86-64-v3 or x86-64-v4 (or unset), got '\(cpuLevel)'\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(1)
}
let fast: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-Xcc", "-march=\(cpuLevel)"], .when(configuration: .release)),
]
// Non-numeric targets: optimised normally, built for x86-64-v3 in release.
let checked: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-march=x86-64-v3"], .when(configuration: .release)),
]
// The executable learns the numeric targets' level (CPULevel.compiled).
let executable: [SwiftSetting] = checked + (cpuLevel == "x86-64-v4"
    ? [.define("SCORESCOPE_X86_64_V4", .when(configuration: .release))] : [])

let package = Package(
    name: "scorescope",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "scorescope", targets: ["scorescope"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // System libraries (module maps + shim headers in Sources/<Name>/).
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),

        // Library targets, bottom-up. Arrows only point down (see README "Layout").
        // SeededRandom: the one seeded generator (xoshiro256**, streams, normal/Beta/permutations), shared by
        // NN (init, FT lambdas) and Data (augmentations), which must not import each other.
        .target(name: "SeededRandom", swiftSettings: fast),
        // Parallel: parallelFor / partRange and the Sendable pointer wrappers, shared by the modules that split
        // work over the cores.
        .target(name: "Parallel", swiftSettings: fast),
        .target(name: "NN", dependencies: ["COpenBLAS", "SeededRandom", "Parallel"], swiftSettings: fast),
        .target(name: "Data", dependencies: ["CZlib", "CPNG", "SeededRandom", "Parallel"], swiftSettings: fast),
        .target(name: "Contrastive", dependencies: ["NN", "Parallel"], swiftSettings: fast),
        .target(name: "Recording", dependencies: ["Parallel", .product(name: "GRDB", package: "GRDB.swift"),
                                                 .product(name: "GRDBSQLite", package: "GRDB.swift")], swiftSettings: fast),
        .target(name: "Analysis", dependencies: ["Recording"], swiftSettings: checked),
        .target(name: "Plotting", dependencies: ["CCairo"], swiftSettings: checked),
        .target(name: "Reports", dependencies: ["Analysis", "Plotting"], swiftSettings: checked),
        .target(name: "Experiments", dependencies: ["Data", "Contrastive", "NN", "Recording"], swiftSettings: checked),
        .executableTarget(
            name: "scorescope",
            dependencies: [
                "SeededRandom", "NN", "Data", "Contrastive", "Recording", "Analysis", "Plotting", "Reports", "Experiments",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: executable
        ),

        .testTarget(name: "SeededRandomTests", dependencies: ["SeededRandom"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Parallel"]),
        .testTarget(name: "DataTests", dependencies: ["Data"]),
        .testTarget(name: "ContrastiveTests", dependencies: ["Contrastive", "NN"]),
        .testTarget(name: "RecordingTests", dependencies: ["Recording", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Recording"]),
        .testTarget(name: "PlottingTests", dependencies: ["Plotting"], exclude: ["Golden"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Analysis", "Plotting", "Recording",
                                                         .product(name: "GRDB", package: "GRDB.swift")],
                    exclude: ["Golden", "screenshot-report.sh"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Data", "Contrastive", "Recording", "NN"]),
        .testTarget(name: "ScorescopeCLITests", dependencies: ["scorescope"]),
    ]
)
