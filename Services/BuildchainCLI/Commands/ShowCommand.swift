import ArgumentParser
import GatewayAPI

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a job: its stages, result and error.")

    @OptionGroup var gateway: GatewayOptions

    @OptionGroup var job: JobIDArgument

    func run() async throws {
        let client = gateway.makeClient(try CLIEnvironment.current())
        gateway.output.print(try await client.job(job.id), text: JobReport.render)
    }
}
