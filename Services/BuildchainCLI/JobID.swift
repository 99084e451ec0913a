import ArgumentParser
import Foundation

/// A job's id as given on the command line: a UUID, checked before any request is sent.
struct JobID: ExpressibleByArgument, Sendable, CustomStringConvertible {
    let uuid: UUID

    init?(argument: String) {
        guard let uuid = UUID(uuidString: argument) else { return nil }
        self.uuid = uuid
    }

    init(_ uuid: UUID) { self.uuid = uuid }

    var description: String { uuid.uuidString.lowercased() }
}

/// What the commands that act on one job take: the gateway options, then the job's id.
struct JobOptions: ParsableArguments {
    @OptionGroup var gateway: GatewayOptions

    @Argument(help: ArgumentHelp("The job's id (a UUID).", valueName: "job-id"))
    var id: JobID
}
