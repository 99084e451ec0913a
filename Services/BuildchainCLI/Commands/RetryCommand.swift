import ArgumentParser

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Run a failed or cancelled job again.")

    @OptionGroup var gateway: GatewayOptions

    @Argument(help: ArgumentHelp("The job's id (a UUID).", valueName: "job-id"))
    var id: JobID

    func run() async throws {
        let client = gateway.makeClient(try CLIEnvironment.current())
        gateway.output.print(try await client.retry(id)) { "job \($0.id): \($0.state) (attempt \($0.attempt))" }
    }
}
