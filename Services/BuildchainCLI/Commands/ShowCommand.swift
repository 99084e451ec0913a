import ArgumentParser
import GatewayAPI

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a job: its stages, result and error.")

    @OptionGroup var job: JobOptions

    func run() async throws {
        job.gateway.output.print(try await job.gateway.makeClient().job(job.id), text: JobReport.render)
    }
}
