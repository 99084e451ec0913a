import Foundation

/// The one bridge from a blocking call (file system walks, hashing, deleting trees, parsing a
/// large archive) to async code: the work runs on a thread of its own, never on a thread of the
/// cooperative pool, and its result resumes the awaiting task.
public enum Blocking {
    public static func run<T: Sendable>(
        name: String = "blocking", _ work: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.name = name
            thread.start()
        }
    }

    public static func remove(_ path: String) async {
        _ = try? await run { try FileManager.default.removeItem(atPath: path) }
    }
}
