import ArgumentParser
import HTTPClient

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show whether the gateway and its dependencies are ready; exit 1 when not.")

    @OptionGroup var gateway: GatewayOptions

    func run() async throws {
        let response = try await gateway.makeClient(try CLIEnvironment.current()).readiness()
        switch gateway.output {
        case .json: Console.output(bytes: response.body)
        case .text:
            Console.output(
                response.status == 200
                    ? "ready: \(response.text)" : "not ready (HTTP \(response.status)): \(response.text)")
        }
        if response.status != 200 { throw ExitCode.failure }
    }
}
