// swift-tools-version: 6.2
import PackageDescription

/// Every target of ours: Swift 6 mode, strict concurrency, and no warning left standing.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .treatAllWarnings(as: .error),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Quiesce",
    products: [
        .executable(name: "quiesce-agent", targets: ["quiesce-agent"]),
        .executable(name: "quiesce-bench", targets: ["quiesce-bench"]),
        .executable(name: "quiesce", targets: ["quiesce"]),
        .executable(name: "quiesce-fuzz", targets: ["quiesce-fuzz"]),
        .library(name: "QuiesceHTTPClient", targets: ["QuiesceHTTPClient"]),
    ],
    dependencies: [
        // Child processes with their own session, process-group teardown and streamed output.
        .package(url: "https://github.com/swiftlang/swift-subprocess", exact: "1.0.2", traits: []),
        // FilePath, Errno and FileDescriptor instead of raw integers; Subprocess speaks it too.
        .package(url: "https://github.com/apple/swift-system", exact: "1.8.1"),
        // The agent's command line; it uses FoundationEssentials only.
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        // The agent's HTTP server: plain NIO is the leanest stack measured for a daemon on every VM.
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        // TLS and mutual TLS for the agent's listener; its BoringSSL also serves QuiesceCrypto.
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        // The coordinator's history: SQLite, embedded, with migrations and typed records.
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        // The CA's P-256 keys, as swift-certificates takes them (coordinator only); tests check
        // QuiesceCrypto against it.
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        // `quiesce ca` and `quiesce enroll`: X.509 certificates for the fleet's own CA (coordinator only).
        .package(url: "https://github.com/apple/swift-certificates", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", exact: "1.7.4"),
        // `--store postgresql://`: one history that coordinators on several hosts share (coordinator only).
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        // The logger postgres-nio's client takes; ours is silent, its errors come back as thrown errors.
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    ],
    targets: [
        .target(name: "QuiesceAPI", dependencies: ["QuiesceCrypto"], swiftSettings: strict),
        // SHA-256, HMAC, Ed25519 and the agent's P-256 key from swift-nio-ssl's BoringSSL, which the
        // agent carries for TLS anyway: swift-crypto would add a second copy (docs/benchmarks.md).
        .target(
            name: "QuiesceCrypto", dependencies: [.product(name: "NIOSSL", package: "swift-nio-ssl")],
            swiftSettings: strict),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "QuiesceHTTPClient", dependencies: ["CCurl"], swiftSettings: strict),
        .target(
            name: "QuiesceCoordinator",
            dependencies: [
                "QuiesceAPI", "QuiesceHTTPClient", "QuiesceSystem",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "QuiesceHistoryPostgres",
            dependencies: [
                "QuiesceCoordinator", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict),
        .target(
            name: "QuiesceCA",
            dependencies: [
                "QuiesceAPI", "QuiesceCoordinator", "QuiesceCrypto", "QuiesceHTTPClient", "QuiesceSystem",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict),
        .target(
            name: "QuiesceDemo",
            dependencies: ["QuiesceAPI", "QuiesceCoordinator", "QuiesceHTTPClient", "QuiesceSystem"],
            swiftSettings: strict),
        .executableTarget(
            name: "quiesce",
            dependencies: [
                "QuiesceAPI", "QuiesceCA", "QuiesceCoordinator", "QuiesceDemo", "QuiesceHistoryPostgres",
                "QuiesceHTTPClient", "QuiesceHTTPServer",
                "QuiesceSystem", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "QuiesceSystem",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "QuiesceAgent",
            dependencies: ["QuiesceAPI", "QuiesceSystem", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strict
        ),
        .target(
            name: "QuiesceHTTPServer",
            dependencies: [
                "QuiesceAPI", "QuiesceSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "QuiesceAgentServer",
            dependencies: [
                "QuiesceAgent", "QuiesceAPI", "QuiesceCrypto", "QuiesceHTTPServer", "QuiesceSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "QuiesceSimulator",
            dependencies: [
                "QuiesceAgent", "QuiesceAgentServer", "QuiesceAPI", "QuiesceHTTPServer", "QuiesceSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "quiesce-agent",
            dependencies: [
                "QuiesceAgent",
                "QuiesceAgentServer",
                "QuiesceAPI",
                "QuiesceHTTPServer",
                "QuiesceSimulator",
                "QuiesceSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "QuiesceFuzzTargets",
            dependencies: ["QuiesceAPI", "QuiesceAgent", "QuiesceCoordinator", "QuiesceSystem"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "quiesce-fuzz", dependencies: ["QuiesceFuzzTargets", "QuiesceSystem"], swiftSettings: strict),
        .executableTarget(
            name: "quiesce-bench",
            dependencies: [
                "QuiesceAPI", "QuiesceCoordinator", "QuiesceDemo", "QuiesceHistoryPostgres", "QuiesceHTTPClient",
                "QuiesceSystem", "quiesce-agent", "quiesce",
            ],
            path: "Benchmarks/quiesce-bench",
            swiftSettings: strict
        ),
        .target(
            name: "QuiesceTestSupport",
            dependencies: [
                "QuiesceAgent", "QuiesceAPI", "QuiesceCrypto", "QuiesceDemo", "QuiesceHistoryPostgres", "QuiesceSystem",
            ],
            path: "Tests/QuiesceTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "QuiesceAPITests",
            dependencies: ["QuiesceAPI", "QuiesceCrypto", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        .testTarget(
            name: "QuiesceSystemTests",
            dependencies: [
                "QuiesceSystem", "QuiesceTestSupport", .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QuiesceAgentTests",
            dependencies: [
                "QuiesceAgent", "QuiesceAPI", "QuiesceSystem", "QuiesceTestSupport",
                "QuiesceCrypto", .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QuiesceCoordinatorTests",
            dependencies: [
                "QuiesceCoordinator", "QuiesceAPI", "QuiesceHistoryPostgres", "QuiesceTestSupport",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "QuiesceHTTPClientTests",
            dependencies: ["QuiesceHTTPClient", "QuiesceAPI", "QuiesceTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QuiesceAgentServerTests",
            dependencies: [
                "QuiesceAgentServer", "QuiesceAgent", "QuiesceAPI", "QuiesceHTTPServer", "QuiesceSystem",
                "QuiesceTestSupport",
                "QuiesceCrypto", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "QuiesceChaosTests", dependencies: ["QuiesceTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "QuiesceFuzzTests", dependencies: ["QuiesceFuzzTargets"], swiftSettings: strict),
        .testTarget(
            name: "QuiesceAgentIntegrationTests",
            dependencies: [
                "QuiesceAgent", "QuiesceAPI", "QuiesceCoordinator", "QuiesceDemo", "QuiesceHistoryPostgres",
                "QuiesceHTTPClient", "QuiesceHTTPServer", "QuiesceSystem", "QuiesceTestSupport", "quiesce-agent",
                "quiesce",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
    ]
)
