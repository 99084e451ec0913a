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

/// The `job-id` argument of the commands that act on one job.
struct JobIDArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("The job's id (a UUID).", valueName: "job-id"))
    var id: JobID
}
