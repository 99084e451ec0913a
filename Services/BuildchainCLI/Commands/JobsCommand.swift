import ArgumentParser
import GatewayAPI

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "List jobs, newest first, a page at a time.")

    static let states = JobState.allCases.map(\.rawValue)

    @OptionGroup var gateway: GatewayOptions

    @Option(help: "Only jobs of this workload.")
    var workload: String?

    @Option(help: "Only jobs of this service.")
    var service: String?

    @Option(help: ArgumentHelp("Only jobs in this state.", valueName: states.joined(separator: "|")))
    var state: String?

    @Option(help: "Jobs per page.")
    var limit: Int?

    @Option(help: "Page to show: the cursor a previous page printed.")
    var cursor: String?

    func validate() throws {
        if let state, !Self.states.contains(state) {
            throw ValidationError("--state must be one of \(Self.states.joined(separator: ", "))")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let client = try gateway.makeClient()
        let page = try await client.jobs(
            .init(workload: workload, service: service, state: state.flatMap(JobState.init(rawValue:)), limit: limit, cursor: cursor))
        gateway.output.print(page) { page in
            var text = page.jobs.isEmpty ? "no jobs" : JobTable.render(page.jobs)
            if let next = page.nextCursor { text += "\nnext cursor: \(next)" }
            return text
        }
    }
}
