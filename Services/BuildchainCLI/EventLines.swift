import Foundation
import GatewayAPI

/// Job events as the lines a person reads.
enum EventLines {
    /// `logs`: log lines prefixed by their stage (`  build | STEP 2/4: RUN …`), state changes
    /// as `--- build: succeeded`.
    static func log(_ event: JobEvent) -> [String] {
        let subject = event.stage?.rawValue ?? "job"
        if event.isStateChange { return ["--- \(subject): \(event.message)"] }
        return messageLines(event).map { "  \(subject) | \($0)" }
    }

    /// `build --wait`: log lines as for `logs`, state changes stamped with the time since
    /// `start` (`[  12.3s] build: running`).
    static func progress(_ event: JobEvent, since start: Date) -> [String] {
        guard event.isStateChange else { return log(event) }
        let elapsed = event.at.timeIntervalSince(start)
        return ["\(Formatting.elapsedStamp(seconds: elapsed)) \(event.stage?.rawValue ?? "job"): \(event.message)"]
    }

    private static func messageLines(_ event: JobEvent) -> [String] {
        var message = event.message
        while message.last?.isNewline == true { message.removeLast() }
        return message.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
    }
}
