import ArgumentParser
import Foundation
import GatewayAPI

struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Submit a build of a git ref: checkout, rewrite, build and, with --push, push.",
        discussion: """
            Prints the job's id, or with --output json the job. With --wait, follows the job to its \
            end (stage changes and the build log on stderr, a summary on stdout) and exits 0 only \
            when it succeeded, 1 when it failed or was cancelled. Ctrl-C stops waiting; it does not \
            cancel the job (use `buildchain cancel ID` for that).
            """)

    @OptionGroup var gateway: GatewayOptions

    @Option(name: .customLong("repo"), help: ArgumentHelp("Git repository to build.", valueName: "url"))
    var repository: String

    @Option(help: "Branch, tag or commit to build.")
    var ref: String

    @Option(help: "Workload the image belongs to.")
    var workload: String

    @Option(help: "Service of the workload the image is for.")
    var service: String

    @Option(
        help: ArgumentHelp(
            "Dockerfile, relative to the --context directory (gateway default: Dockerfile).",
            valueName: "path"))
    var dockerfile: String?

    @Option(
        help: ArgumentHelp(
            "Build context directory, relative to the repository root (gateway default: .).", valueName: "path"))
    var context: String?

    @Option(help: "Dockerfile stage to build.")
    var target: String?

    @Option(
        name: .customLong("build-arg"), help: ArgumentHelp("A build argument; repeatable.", valueName: "name=value"),
        transform: BuildArgument.init(parsing:))
    var buildArguments: [BuildArgument] = []

    @OptionGroup var secrets: SecretOptions

    @Flag(name: .customLong("no-cache"), help: "Build without the layer cache (as BUILDCHAIN_CACHE=false).")
    var noCache = false

    @Flag(
        name: .customLong("no-mirrors"),
        help: "Pull base images without the registry mirrors (as BUILDCHAIN_MIRRORS=false).")
    var noMirrors = false

    @Flag(help: "Build again even when an identical build already succeeded.")
    var fresh = false

    @Option(help: ArgumentHelp("Push the image to this reference.", valueName: "reference"))
    var push: String?

    @Flag(help: "Follow the job until it ends; exit 0 only when it succeeded.")
    var wait = false

    @Flag(
        name: .customLong("dry-run"),
        help: "Check and record the job without running it (it ends cancelled with DRY_RUN); --wait is ignored.")
    var dryRun = false

    /// The request body; options not given are left out, so the gateway applies its defaults
    /// (`dry_run` is sent only when asked for). An off switch wins, whether it comes from a flag or
    /// the environment.
    func submission(_ environment: CLIEnvironment) -> BuildRequest {
        BuildRequest(
            workload: workload, service: service, repository: .init(url: repository, ref: ref),
            contextPath: context, dockerfilePath: dockerfile, target: target,
            buildArgs: BuildArgument.dictionary(buildArguments).map { .init(additionalProperties: $0) },
            cache: !noCache && environment.cache, mirrors: !noMirrors && environment.mirrors, fresh: fresh,
            dryRun: dryRun ? true : nil, push: push.map { .init(destination: $0) })
    }

    func run() async throws {
        let environment = try CLIEnvironment.current()
        let client = gateway.makeClient(environment)
        var body = submission(environment)
        let (secretBuildArgs, secretFiles) = try secrets.values(environment)
        body.secretBuildArgs = secretBuildArgs.map { .init(additionalProperties: $0) }
        body.secrets = secretFiles.map { .init(additionalProperties: $0) }
        let submitted = try await client.submit(body)
        guard wait, !dryRun else {
            gateway.output.print(submitted) { $0.id }
            return
        }
        guard let id = JobID(argument: submitted.value.id) else {
            throw CLIError.unreadableAnswer("/v1/builds", reason: "job id '\(submitted.value.id)' is no UUID")
        }
        let output = gateway.output
        let start = submitted.value.createdAt
        if output == .text { Console.error("job \(id) submitted") }
        let ended = try await EventFollower(client: client, jobID: id).follow { received in
            guard output == .text else { return }
            for line in EventLines.progress(received.event, since: start) { Console.error(line) }
        }
        output.print(ended, text: JobReport.render)
        if !ended.value.succeeded { throw CLIError.jobUnsuccessful(ended.value) }
    }
}
