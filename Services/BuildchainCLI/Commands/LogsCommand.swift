import ArgumentParser
import GatewayAPI

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a job's recorded events: stage logs and state changes.",
        discussion: "With --output json, prints the events as the gateway sent them, one JSON object a line.")

    @OptionGroup var job: JobOptions

    @Flag(name: .shortAndLong, help: "Keep printing new events until the job ends.")
    var follow = false

    func run() async throws {
        let follower = EventFollower(client: try job.gateway.makeClient(), jobID: job.id)
        let output = job.gateway.output
        let print: (ReceivedEvent) -> Void = { received in
            switch output {
            case .json: Console.output(bytes: received.line)
            case .text: for line in EventLines.log(received.event) { Console.output(line) }
            }
        }
        if follow {
            _ = try await follower.follow(onEvent: print)
        } else {
            try await follower.recorded(onEvent: print)
        }
    }
}
