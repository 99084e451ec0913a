import Foundation

/// Runs blocking work (file system walks, hashing, deleting trees) on a thread of
/// its own instead of a cooperative-pool thread.
enum Blocking {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    static func remove(_ path: String) async {
        _ = try? await run { try FileManager.default.removeItem(atPath: path) }
    }
}
