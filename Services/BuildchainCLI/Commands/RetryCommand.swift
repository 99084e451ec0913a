import ArgumentParser
import GatewayAPI

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Run a failed or cancelled job again.",
        discussion: "A job's secrets are deleted when it ends: give a job that had some the same --secret-build-arg and --secret again.")

    @OptionGroup var job: JobOptions

    @OptionGroup var secrets: SecretOptions

    func run() async throws {
        let environment = try CLIEnvironment.current()
        let client = job.gateway.makeClient(environment)
        let (buildArgs, files) = try secrets.values(environment)
        job.gateway.output.print(try await client.retry(job.id, secretBuildArgs: buildArgs, secrets: files)) { "job \($0.id): \($0.state.rawValue) (attempt \($0.attempt))" }
    }
}
