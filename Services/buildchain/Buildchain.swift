import ArgumentParser
import Foundation
import HTTPClient

@main
struct Buildchain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "buildchain",
        abstract: "Drive buildchain builds through its gateway.",
        subcommands: [Status.self])
}

/// Options every command shares: where the gateway is and the token to use.
struct GatewayOptions: ParsableArguments {
    @Option(help: "Gateway base URL (default: $BUILDCHAIN_URL or http://127.0.0.1:8080).")
    var url: String = ProcessInfo.processInfo.environment["BUILDCHAIN_URL"] ?? "http://127.0.0.1:8080"

    var token: String? { ProcessInfo.processInfo.environment["BUILDCHAIN_TOKEN"] }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show whether the gateway and its dependencies are ready.")

    @OptionGroup var gateway: GatewayOptions

    func run() async throws {
        let client = HTTPClient()
        let response = try await client.send(
            ClientRequest(url: gateway.url + "/readyz", timeout: .seconds(10), retry: .never))
        print(response.text)
        if response.status != 200 { throw ExitCode(1) }
    }
}
