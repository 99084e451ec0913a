import ArgumentParser

/// Options every command shares: where the gateway is and how to print its answers. The token
/// comes only from `$BUILDCHAIN_TOKEN`, so it never shows in a process list or shell history.
struct GatewayOptions: ParsableArguments {
    @Option(help: "Gateway base URL (default: $BUILDCHAIN_URL or \(CLIEnvironment.defaultGatewayURL)).")
    var url: String?

    @Option(help: "Output format: text, or json (the gateway's JSON, for scripts).")
    var output: OutputFormat = .text

    func makeClient(_ environment: CLIEnvironment) -> GatewayClient {
        GatewayClient(
            baseURL: url ?? environment.gatewayURL ?? CLIEnvironment.defaultGatewayURL, token: environment.token)
    }

    /// A client for the process's own environment.
    func makeClient() throws -> GatewayClient {
        makeClient(try CLIEnvironment.current())
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}

extension OutputFormat {
    /// Prints the gateway's JSON as it came, or the answer as text.
    func print<Value>(_ answer: GatewayAnswer<Value>, text: (Value) -> String) {
        switch self {
        case .json: Console.output(bytes: answer.body)
        case .text: Console.output(text(answer.value))
        }
    }
}
