import ArgumentParser

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show whether the gateway and its dependencies are ready; exit 1 when not.")

    @OptionGroup var gateway: GatewayOptions

    func run() async throws {
        let response = try await gateway.makeClient().readiness()
        let text = String(decoding: response.body, as: UTF8.self)
        switch gateway.output {
        case .json: Console.output(bytes: response.body)
        case .text:
            Console.output(response.status == 200 ? "ready: \(text)" : "not ready (HTTP \(response.status)): \(text)")
        }
        if response.status != 200 { throw ExitCode.failure }
    }
}
