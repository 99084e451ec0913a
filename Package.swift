// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let hummingbirdTesting = Target.Dependency.product(name: "HummingbirdTesting", package: "hummingbird")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let httpTypes = Target.Dependency.product(name: "HTTPTypes", package: "swift-http-types")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let openAPIRuntime = Target.Dependency.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")
let openAPIHummingbird = Target.Dependency.product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird")

/// The generated contract of one service: `openapi/swift/<Module>`, written by
/// scripts/openapi-generate.sh from openapi/ (types, client, server protocol, bundled spec).
func contract(_ name: String) -> Target {
    .target(name: name, dependencies: [openAPIRuntime, httpTypes], path: "openapi/swift/\(name)")
}

/// A library module of its own folder under `Shared/`.
func shared(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .target(name: name, dependencies: dependencies, path: "Shared/\(name)", swiftSettings: swiftSettings)
}

/// A service: its library under `Services/<Name>` and its thin executable under `Services/<exe>`.
func service(_ library: String, executable: String, _ dependencies: [Target.Dependency]) -> [Target] {
    [
        .target(name: library, dependencies: dependencies, path: "Services/\(library)", swiftSettings: swiftSettings),
        .executableTarget(
            name: executable, dependencies: [.target(name: library), "ServiceKit"],
            path: "Services/\(executable)", swiftSettings: swiftSettings),
    ]
}

func tests(_ name: String, _ dependencies: [Target.Dependency], exclude: [String] = []) -> Target {
    .testTarget(
        name: name, dependencies: dependencies, path: "Tests/\(name)", exclude: exclude, swiftSettings: swiftSettings)
}

let package = Package(
    name: "buildchain",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gateway", targets: ["gateway"]),
        .executable(name: "checkout-service", targets: ["checkout-service"]),
        .executable(name: "rewrite-service", targets: ["rewrite-service"]),
        .executable(name: "build-service", targets: ["build-service"]),
        .executable(name: "artifact-service", targets: ["artifact-service"]),
        .executable(name: "buildchain", targets: ["buildchain"]),
        // Typed clients for other tooling: the generated client of one service and a transport.
        .library(name: "BuildchainClient", targets: ["GatewayAPI", "OperationalAPI", "OpenAPITransport", "ContractCoding", "RequestValidation"]),
        .library(name: "CheckoutClient", targets: ["CheckoutAPI", "OperationalAPI", "OpenAPITransport", "ContractCoding", "RequestValidation"]),
        .library(name: "RewriteClient", targets: ["RewriteAPI", "OperationalAPI", "OpenAPITransport", "ContractCoding", "RequestValidation"]),
        .library(name: "BuildClient", targets: ["BuildAPI", "OperationalAPI", "OpenAPITransport", "ContractCoding", "RequestValidation"]),
        .library(name: "ArtifactClient", targets: ["ArtifactAPI", "OperationalAPI", "OpenAPITransport", "ContractCoding", "RequestValidation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // Hummingbird's own dependencies, named for ServiceKit's channel handler.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", exact: "2.0.1"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", from: "2.1.0"),
    ],
    targets: [
        // C libraries, each wrapped by exactly one Swift module below.
        .systemLibrary(
            name: "CCurl", path: "Shared/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Shared/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CLibPQ", path: "Shared/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),

        contract("GatewayAPI"),
        contract("CheckoutAPI"),
        contract("RewriteAPI"),
        contract("BuildAPI"),
        contract("ArtifactAPI"),
        contract("OperationalAPI"),
        // How every generated server and client codes JSON (dates, key order).
        shared("ContractCoding", [openAPIRuntime]),
        shared("OpenAPITransport", ["HTTPClient", "ContractCoding", "RequestValidation", openAPIRuntime, httpTypes]),
        // Checks requests against a service's bundled spec (the limits written once, in openapi/).
        shared("RequestValidation", []),

        shared("Digests", ["COpenSSL"]),
        shared("Provenance", ["Digests"]),
        shared("TraceContext", []),
        shared("HTTPClient", ["CCurl", "TraceContext", logging]),
        shared("Postgres", ["CLibPQ", logging]),
        shared("Records", ["Postgres", logging]),
        shared("Migrations", ["Postgres"]),
        shared("PathBytes", []),
        shared("Dockerfile", ["PathBytes"]),
        shared("Processes", []),
        shared("GitCheckout", ["Processes", "Digests", "PathBytes", logging]),
        shared("BuildDrivers", ["Processes", "Digests", "OCI", "HTTPClient", "PathBytes", logging]),
        shared("S3", ["HTTPClient", "Digests", "PathBytes", logging]),
        shared("OCI", ["HTTPClient", "Digests", "Processes", "PathBytes", logging]),
        // The HTTP serving kit every service is built on: no database, no outbound HTTP.
        shared(
            "ServiceKit",
            [
                hummingbird, httpTypes, logging, "Digests", "TraceContext", openAPIRuntime, "ContractCoding", "RequestValidation",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                serviceLifecycle,
            ]),
        // What the stage services' callers and the stages share: the artifact-service client,
        // the artifact key rule, a run's failure document, the lease header (on ServiceKit's wire
        // conventions: problem details, JSON coding, secrets).
        shared("StageClients", ["ServiceKit", "HTTPClient", "PathBytes", "ArtifactAPI", "OpenAPITransport", "ContractCoding", openAPIRuntime, httpTypes, logging]),
        // Recorded runs of the stage services (executor, routes, event streams) and the
        // database every service but rewrite-service opens at start.
        shared(
            "StageRuns",
            [
                hummingbird, httpTypes, logging, "ServiceKit", "StageClients", "Postgres", "Records", "Migrations", serviceLifecycle,
                openAPIRuntime, "RequestValidation",
            ]),
    ]
        + service(
            "RewriteService", executable: "rewrite-service",
            [hummingbird, httpTypes, "ServiceKit", "RewriteAPI", "ContractCoding", openAPIRuntime, openAPIHummingbird, "Dockerfile", "OCI", "HTTPClient", argumentParser])
        + service(
            "CheckoutService", executable: "checkout-service",
            [
                hummingbird, httpTypes, "ServiceKit", "StageRuns", "StageClients", "CheckoutAPI", "ContractCoding", openAPIRuntime,
                openAPIHummingbird, "GitCheckout", "Records", "HTTPClient",
            ])
        + service(
            "BuildService", executable: "build-service",
            [
                hummingbird, httpTypes, "ServiceKit", "StageRuns", "StageClients", "BuildAPI", "ContractCoding", openAPIRuntime, openAPIHummingbird,
                "BuildDrivers", "OCI", "Records",
                "HTTPClient", "Processes", "PathBytes",
            ])
        + service(
            "ArtifactService", executable: "artifact-service",
            [
                hummingbird, httpTypes, logging, "ServiceKit", "StageRuns", "StageClients", "ArtifactAPI", "ContractCoding", openAPIRuntime,
                openAPIHummingbird, .product(name: "HummingbirdCore", package: "hummingbird"), "Digests", "Records", "S3",
                "OCI", "HTTPClient", "PathBytes",
            ])
        // The gateway, with its orchestration of the stages (Services/Gateway/Orchestration).
        + service(
            "Gateway", executable: "gateway",
            [
                hummingbird, httpTypes, logging, serviceLifecycle, "ServiceKit", "StageRuns", "StageClients", "Records",
                "HTTPClient", "Digests", "Provenance", "OCI", "PathBytes", "GatewayAPI", "RequestValidation",
                "CheckoutAPI", "RewriteAPI", "BuildAPI", "ArtifactAPI", "OpenAPITransport", "ContractCoding", openAPIRuntime,
                openAPIHummingbird,
            ])
        + [
            .target(
                name: "BuildchainCLI",
                dependencies: [
                    "GatewayAPI", "OperationalAPI", "OpenAPITransport", "ContractCoding", "RequestValidation", "HTTPClient", "Digests", "Provenance", "OCI", argumentParser, logging,
                    openAPIRuntime, httpTypes,
                ],
                path: "Services/BuildchainCLI", swiftSettings: swiftSettings),
            .executableTarget(
                name: "buildchain", dependencies: ["BuildchainCLI"],
                path: "Services/buildchain", swiftSettings: swiftSettings),

            // What several test targets share (memory sampling, a waited-for shell).
            .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: swiftSettings),
            tests("DigestsTests", ["Digests"]),
            tests("PathBytesTests", ["PathBytes"]),
            tests("ProvenanceTests", ["Provenance", "Digests", "Processes"], exclude: ["verify_envelope.py"]),
            tests(
                "HTTPClientTests", ["HTTPClient", "TraceContext", "Digests", "TestSupport", hummingbird, hummingbirdTesting, httpTypes],
                exclude: ["pattern_server.py"]),
            tests(
                "OpenAPITransportTests",
                ["OpenAPITransport", "ContractCoding", "RequestValidation", "ArtifactAPI", "HTTPClient", "TraceContext", "Digests", "TestSupport", openAPIRuntime, hummingbird, hummingbirdTesting, httpTypes]),
            tests("PostgresTests", ["Postgres", "Records", "Migrations", "TestSupport"]),
            tests("ProcessesTests", ["Processes"]),
            tests("GitCheckoutTests", ["GitCheckout", "Processes", "Digests"]),
            tests(
                "BuildDriversTests",
                ["BuildDrivers", "Processes", "Digests", "OCI", "HTTPClient", hummingbird, hummingbirdTesting],
                exclude: ["Fixtures"]),
            tests("DockerfileTests", ["Dockerfile"], exclude: ["buildkit_referee.py"]),
            tests("S3Tests", ["S3", "HTTPClient", "Digests", "TestSupport"]),
            tests("OCITests", ["OCI", "HTTPClient", "Digests"]),
            tests("BuildchainCLITests", ["BuildchainCLI", "GatewayAPI", "ContractCoding", "HTTPClient", argumentParser, openAPIRuntime]),
            tests("OrchestrationTests", ["Gateway", "GatewayAPI", "Records", "ServiceKit", "Digests"]),
            tests("RequestValidationTests", ["RequestValidation", "GatewayAPI", "CheckoutAPI", "RewriteAPI", "BuildAPI", "ArtifactAPI"]),
            tests("ServiceKitTests", ["ServiceKit", "ContractCoding", "RequestValidation", "HTTPClient", "Processes", hummingbird, hummingbirdTesting, httpTypes]),
            tests(
                "ServicesTests",
                [
                    "ServiceKit", "StageRuns", "StageClients", "RewriteService", "CheckoutService", "BuildService", "ArtifactService", "Gateway",
                    "HTTPClient", "Dockerfile", "Processes", "Digests", "GitCheckout", "BuildDrivers", "Postgres", "Records", "S3", "TestSupport", "Provenance", "OCI",
                    "PathBytes", "RequestValidation", "GatewayAPI", "CheckoutAPI", "RewriteAPI", "BuildAPI", "ArtifactAPI", "OpenAPITransport",
                    logging, .product(name: "PropertyBased", package: "swift-property-based"), hummingbird, hummingbirdTesting, httpTypes,
                ], exclude: ["Browser", "Faults"]),
        ]
)
