// swift-tools-version:6.2
// Builds swift-openapi-generator alone, so scripts/openapi-generate.sh can regenerate
// Shared/*API/Generated from openapi/ without the main package depending on the generator.
import PackageDescription

let package = Package(
    name: "openapi-generator-tool",
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator.git", exact: "1.14.3")
    ]
)
