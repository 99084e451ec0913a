import Logging
import ServiceLifecycle

/// Runs `chore` now and then every `interval` until graceful shutdown (or cancellation).
/// A round that throws is logged as `failure`, with the error's type only (an error's text
/// may quote a secret), and the next round goes on as usual.
public func repeatUntilShutdown(
    every interval: Duration, logger: Logger, failure: Logger.Message, _ chore: @escaping @Sendable () async throws -> Void
) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            do {
                try await chore()
            } catch {
                logger.warning(failure, metadata: ["error": "\(type(of: error))"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
