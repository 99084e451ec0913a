import ArgumentParser
import GatewayAPI

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a queued or running job.")

    @OptionGroup var gateway: GatewayOptions

    @Argument(help: ArgumentHelp("The job's id (a UUID).", valueName: "job-id"))
    var id: JobID

    func run() async throws {
        let client = gateway.makeClient(try CLIEnvironment.current())
        gateway.output.print(try await client.cancel(id)) { "job \($0.id): \($0.state.rawValue)" }
    }
}
