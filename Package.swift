// swift-tools-version:6.0
// leader — LEADER medication recommendation: C-ABI library (libleader.so), CLI and kernels.
// All OpenMP and optimisation flags live here (see ../shared/reference/swift-c-abi-recipes.md).
import Foundation
import PackageDescription

// Debian's libomp-dev ships libomp5.so in the multiarch dir; omp.h is never included (kernels declare
// the few omp_* calls they use), so no version-specific include path is needed.
let kernelC: [CSetting] = [
    .unsafeFlags(["-fopenmp", "-O3", "-std=c11", "-fvisibility=hidden", "-Wall", "-Wextra"]),
]
let kernelLink: [LinkerSetting] = [.linkedLibrary("omp5"), .linkedLibrary("m")]

// One-paragraph READMEs beside the sources (STYLE.md §1) are not build inputs: exclude every README.md.
func readmes(_ target: String) -> [String] {
    let root = URL(fileURLWithPath: Context.packageDirectory).appendingPathComponent("Sources/\(target)")
    guard let walk = FileManager.default.enumerator(atPath: root.path) else { return [] }
    return walk.compactMap { $0 as? String }.filter { $0.hasSuffix("README.md") }.sorted()
}

let package = Package(
    name: "leader",
    products: [
        .library(name: "leader", type: .dynamic, targets: ["Leader"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // MARK: - Kernels (C11 + OpenMP; internal, hidden visibility)
        .target(name: "CLeaderKernels", exclude: readmes("CLeaderKernels"), cSettings: kernelC, linkerSettings: kernelLink),
        // MARK: - Public C ABI support: thread-local error buffer, per-thread OpenMP blocktime; re-exports include/leader.h
        .target(name: "CLeader", exclude: readmes("CLeader"), cSettings: [.unsafeFlags(["-O2", "-std=c11", "-Wall", "-Wextra"])],
                linkerSettings: [.linkedLibrary("omp5")]),
        // MARK: - CSV + gzip reading for the EHR loaders (C11, zlib; internal)
        .target(name: "CLeaderIO", exclude: readmes("CLeaderIO"),
                cSettings: [.unsafeFlags(["-O3", "-std=c11", "-fvisibility=hidden", "-Wall", "-Wextra"])],
                linkerSettings: [.linkedLibrary("z")]),
        // MARK: - Swift core
        .target(name: "LeaderCore", dependencies: ["CLeaderKernels", "CLeaderIO"], exclude: readmes("LeaderCore")),
        // MARK: - The C ABI (only the functions of include/leader.h)
        .target(name: "Leader", dependencies: ["CLeader", "LeaderCore"], exclude: readmes("Leader")),
        // MARK: - CLI
        .executableTarget(name: "leader-cli", dependencies: [
            "LeaderCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], exclude: readmes("leader-cli")),
        // MARK: - Tests
        .testTarget(name: "KernelTests", dependencies: ["CLeaderKernels"]),
        .testTarget(name: "LeaderCoreTests", dependencies: ["LeaderCore", "CLeaderKernels"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ABITests", dependencies: ["Leader"]),
    ]
)
