// swift-tools-version:6.0
// CEMA edge runtime. EDGE_EMBEDDED=1 compiles the board-side targets (EdgeRuntime, EdgeAgent) in
// Embedded Swift; the default host build is what `swift test` exercises.
import PackageDescription

let embedded = Context.environment["EDGE_EMBEDDED"] == "1"
let embeddedSettings: [SwiftSetting] = embedded
    ? [.enableExperimentalFeature("Embedded"), .unsafeFlags(["-wmo"])]
    : []

let package = Package(
    name: "cema-edge",
    products: [
        .executable(name: "cema", targets: ["cema"]),
        .executable(name: "edge-agent", targets: ["EdgeAgent"]),
        .library(name: "EdgeRuntime", targets: ["EdgeRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    ],
    targets: [
        .target(
            name: "CEdgeShim",
            exclude: ["proto"],
            // -ffp-contract=off: no compiler-chosen FMA, so float code (the int8 requantization around the exact
            // integer sums) gives the same bits on the host (clang) and the boards (gcc, which contracts by default).
            cSettings: [.unsafeFlags(["-O3", "-std=gnu11", "-ffp-contract=off"])],
            linkerSettings: [.linkedLibrary("protobuf-c"), .linkedLibrary("sodium"), .linkedLibrary("m"),
                             .linkedLibrary("pthread")]
        ),
        .target(
            name: "EdgeRuntime",
            dependencies: ["CEdgeShim"],
            swiftSettings: embeddedSettings
        ),
        .executableTarget(
            name: "EdgeAgent",
            dependencies: ["EdgeRuntime"],
            swiftSettings: embeddedSettings
        ),
        .systemLibrary(name: "CHostCodecs", path: "Sources/CHostCodecs"),
        .target(
            name: "Simulation",
            dependencies: ["EdgeRuntime", "CloudTrainer", "CHostCodecs"]
        ),
        // Host only: reverse pass over the edge Graph for norm-affine parameters, CEMA losses, SGD,
        // replay buffer, parameter patches (swift-protobuf code generated from cema.proto, committed).
        .target(
            name: "CloudTrainer",
            dependencies: [
                "EdgeRuntime", "CEdgeShim",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["generated/README.md"]
        ),
        .executableTarget(
            name: "cema",
            dependencies: [
                "EdgeRuntime",
                "Simulation",
                "CloudTrainer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "EdgeRuntimeTests", dependencies: ["EdgeRuntime", "CEdgeShim"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "EdgeRuntime"]),
        .testTarget(name: "CloudTrainerTests", dependencies: ["CloudTrainer", "EdgeRuntime", "CEdgeShim", "Simulation"],
                    resources: [.copy("Vectors")]),
    ],
    swiftLanguageModes: [.v5]
)
