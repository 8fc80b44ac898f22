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
    ],
    targets: [
        // System libraries: a module map and a shim header each, nothing else.
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Whole-buffer gunzip, about twice zlib's speed; zlib stays for streams and cut files.
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        .target(name: "SecModel"),
        .target(name: "SecIngest", dependencies: ["SecModel", "CZlib", "CDeflate"]),
        .target(name: "SecStore", dependencies: ["SecModel", "CLMDB", "CZstd", "CCrypto"]),
        .target(name: "SecQuery", dependencies: ["SecModel", "SecStore", "SecIngest"]),
        .target(name: "SecCLI", dependencies: [
            "SecModel", "SecIngest", "SecStore", "SecQuery",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "secq", dependencies: ["SecCLI"]),

        .testTarget(name: "SecModelTests", dependencies: ["SecModel"]),
        .testTarget(name: "SecIngestTests", dependencies: ["SecIngest", "SecModel"]),
        .testTarget(name: "SecStoreTests", dependencies: ["SecStore", "SecIngest", "SecModel"]),
        .testTarget(name: "SecQueryTests", dependencies: ["SecQuery", "SecStore", "SecIngest", "SecModel"]),
        .testTarget(name: "SecCLITests", dependencies: ["SecCLI", "SecStore", "SecModel"]),
    ],
    swiftLanguageModes: [.v6]
)
