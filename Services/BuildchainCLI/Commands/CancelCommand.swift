import ArgumentParser
import GatewayAPI

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a queued or running job.")

    @OptionGroup var job: JobOptions

    func run() async throws {
        job.gateway.output.print(try await job.gateway.makeClient().cancel(job.id)) { "job \($0.id): \($0.state.rawValue)" }
    }
}
