// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "secq",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "secq", targets: ["secq"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // System libraries: a module map and a shim header each, nothing else.
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // Streaming gunzip (Intel ISA-L's igzip): about 2.7x zlib's speed on flow and load
        // balancer logs, and it keeps everything before a cut.
        .systemLibrary(name: "CIsal", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),
        // Whole-buffer gunzip for files held in memory.
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        .target(name: "SecModel"),
        .target(name: "SecIngest", dependencies: ["SecModel", "CIsal", "CDeflate"]),
        .target(name: "SecStore", dependencies: ["SecModel", "CLMDB", "CZstd", "CCrypto"]),
        .target(name: "SecQuery", dependencies: ["SecModel", "SecStore", "SecIngest", "SecEngine"]),
        .target(name: "SecDetect", dependencies: ["SecModel", "SecIngest"]),
        // AWS Config managed-rule equivalents over configuration items (pure: no store).
        .target(name: "SecCompliance", dependencies: ["SecModel"]),
        // The detection engine: SecDetect's detectors fed from a bank's log, findings kept in the bank.
        .target(name: "SecEngine", dependencies: ["SecDetect", "SecStore", "SecIngest", "SecModel", "SecCompliance"]),
        // Detectors written as rule files (YAML) and Sigma rules, evaluated with secq expressions.
        .target(name: "SecRules", dependencies: [
            "SecDetect", "SecQuery", "SecModel", "SecIngest", .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "SecCLI", dependencies: [
            "CDeflate", "SecModel", "SecIngest", "SecStore", "SecQuery", "SecEngine", "SecDetect", "SecRules", "SecCompliance",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "secq", dependencies: ["SecCLI"]),

        .testTarget(name: "SecModelTests", dependencies: ["SecModel"]),
        .testTarget(name: "SecIngestTests", dependencies: ["SecIngest", "SecModel", "CDeflate"]),
        .testTarget(name: "SecStoreTests", dependencies: ["SecStore", "SecIngest", "SecModel"]),
        .testTarget(name: "SecQueryTests", dependencies: ["SecQuery", "SecStore", "SecIngest", "SecModel"],
                    exclude: ["Golden"]),
        .testTarget(name: "SecDetectTests", dependencies: ["SecDetect", "SecIngest", "SecModel"]),
        .testTarget(name: "SecCLITests", dependencies: ["SecCLI", "SecStore", "SecModel", "SecEngine", "SecDetect", "SecRules", "SecCompliance"]),
        .testTarget(name: "SecComplianceTests", dependencies: ["SecCompliance", "SecModel"]),
        .testTarget(name: "SecRulesTests", dependencies: ["SecRules", "SecDetect", "SecQuery", "SecIngest", "SecModel"]),
    ],
    swiftLanguageModes: [.v6]
)
