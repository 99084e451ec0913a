import ArgumentParser
import GatewayAPI

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a queued or running job.")

    @OptionGroup var gateway: GatewayOptions

    @OptionGroup var job: JobIDArgument

    func run() async throws {
        let client = gateway.makeClient(try CLIEnvironment.current())
        gateway.output.print(try await client.cancel(job.id)) { "job \($0.id): \($0.state.rawValue)" }
    }
}
