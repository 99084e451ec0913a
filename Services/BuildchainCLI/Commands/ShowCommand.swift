import ArgumentParser
import GatewayAPI

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a job: its stages, result and error.")

    @OptionGroup var gateway: GatewayOptions

    @Argument(help: ArgumentHelp("The job's id (a UUID).", valueName: "job-id"))
    var id: JobID

    func run() async throws {
        let client = gateway.makeClient(try CLIEnvironment.current())
        gateway.output.print(try await client.job(id), text: JobReport.render)
    }
}
