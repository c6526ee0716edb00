// swift-tools-version:6.0
import PackageDescription

/// Strict settings for every target: Swift 6 language mode is the package default below.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "pier",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pier", targets: ["PierCLI"]),
        .library(name: "PierEngine", targets: ["PierEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", "5.0.1"..<"7.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // Layer 1: OCI model. Pure values: references, digests, descriptors, manifests, the error type.
        .target(
            name: "PierModel",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // zlib, for deterministic gzip of docker-archive layers.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // libzstd, for zstd layers (`pier build --compression zstd`).
        .systemLibrary(
            name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]),
        // Local image formats: OCI layout directories, OCI archives, docker-archive (`docker save`).
        .target(
            name: "PierLayout",
            dependencies: ["PierModel", "CZlib", "CZstd", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // Layer 2a: the one HTTP layer under the distribution client and the hosted-service APIs: the shared
        // transport (TLS settings, connection pools), origins, the total deadline for buffered bodies, and the one
        // retry policy.
        .target(
            name: "PierHTTP",
            dependencies: [
                "PierModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // Layer 2b: the distribution client (OCI distribution-spec: ping, auth, blobs, manifests, tags) and the
        // credential chain. The only code that speaks the distribution API.
        .target(
            name: "PierRegistry",
            dependencies: [
                "PierModel", "PierHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Layer 2c: the hosted-service APIs beside the distribution client: tag deletion and listing through
        // Docker Hub, GitHub packages, GitLab, Harbor and ECR (SigV4), and GitHub and GitLab releases.
        .target(
            name: "PierHostedAPIs",
            dependencies: [
                "PierModel", "PierHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Layer 3: the release engine (use cases: copy, inspect, …).
        .target(
            name: "PierEngine",
            dependencies: [
                "PierModel", "PierHTTP", "PierRegistry", "PierHostedAPIs", "PierLayout",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: strict
        ),
        // Layer 4: the thin CLI.
        .executableTarget(
            name: "PierCLI",
            dependencies: [
                "PierEngine", "PierLayout", "PierRegistry", "PierHostedAPIs",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "PierTestSupport",
            dependencies: [
                "PierModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/PierTestSupport",
            exclude: ["Resources"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PierModelTests",
            dependencies: [
                "PierModel", "PierHTTP", "PierRegistry", "PierHostedAPIs", "PierLayout", "PierEngine",
                "PierTestSupport",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PierIntegrationTests",
            dependencies: [
                "PierEngine", "PierHTTP", "PierRegistry", "PierHostedAPIs", "PierLayout", "PierTestSupport",
            ],
            exclude: ["Golden"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
