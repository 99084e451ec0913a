import Foundation
import GatewayAPI

/// Follows a job's events until the job has ended. When the stream breaks while the job still
/// runs, it polls the job every `pollInterval` and reopens the stream after the last seq it
/// saw, so no event is lost or shown twice.
struct EventFollower: Sendable {
    let client: GatewayClient
    let jobID: JobID
    var pollInterval: Duration = .seconds(1)
    /// How long the gateway may stay unreachable before following gives up.
    var patience: Duration = .seconds(120)

    /// Delivers every event after `after`, then returns the ended job.
    func follow(after: Int = 0, onEvent: (ReceivedEvent) -> Void) async throws -> GatewayAnswer<Job> {
        var lastSeq = after
        var lastContact = ContinuousClock.now
        // After the job ended, one more stream picks up what a broken one missed.
        var drainTried = false
        while true {
            var streamEnded = false
            do {
                let (body, _) = try await client.openEvents(jobID, after: lastSeq)
                defer { lastContact = .now }
                try await EventStream.read(body) { received in
                    lastSeq = max(lastSeq, received.event.seq)
                    onEvent(received)
                    return true
                }
                streamEnded = true
            } catch let error as CLIError where !error.isTransient {
                throw error
            } catch {
                try checkPatience(since: lastContact, error)
            }

            do {
                let job = try await client.job(jobID)
                lastContact = .now
                if job.value.hasEnded && (streamEnded || drainTried) { return job }
                if job.value.hasEnded {
                    drainTried = true
                    continue
                }
            } catch let error as CLIError where error.isTransient {
                try checkPatience(since: lastContact, error)
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// Delivers the events recorded so far and returns without waiting for the job: the stream
    /// is read until it ends, it stays quiet for `quietLimit`, or an event arrives that is
    /// dated after the gateway began to answer (a live one).
    func recorded(quietLimit: Duration = .seconds(1), onEvent: (ReceivedEvent) -> Void) async throws {
        let (body, date) = try await client.openEvents(jobID, after: 0)
        // HTTP dates have whole seconds: allow one more.
        let liveAfter = date.flatMap(Self.httpDate(from:))?.addingTimeInterval(1)
        do {
            try await EventStream.read(body, quietLimit: quietLimit) { received in
                if let liveAfter, received.event.at > liveAfter { return false }
                onEvent(received)
                return true
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.unreachable(client.baseURL, reason: "the event stream broke: \(error)")
        }
    }

    private func checkPatience(since lastContact: ContinuousClock.Instant, _ error: any Error) throws {
        guard ContinuousClock.now - lastContact > patience else { return }
        if let error = error as? CLIError { throw error }
        throw CLIError.unreachable(client.baseURL, reason: "\(error)")
    }

    /// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form of the `Date` header.
    static func httpDate(from text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
