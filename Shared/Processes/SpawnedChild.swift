import Foundation
import Synchronization

/// A child started with posix_spawn as the leader of a new process group,
/// with default signal dispositions and an empty signal mask.
final class SpawnedChild: Sendable {
    let pid: pid_t
    let stdout: Int32
    let stderr: Int32
    private let executable: String
    private let reaped = Mutex(false)

    struct Status: Sendable {
        let exited: Bool
        let code: Int32
    }

    init(_ spec: ProcessSpec) throws {
        executable = spec.executable
        let path = try Self.resolve(spec.executable, in: spec.environment["PATH"])
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard Self.closeOnExecPipe(&outPipe), Self.closeOnExecPipe(&errPipe) else {
            throw ProcessError(executable: spec.executable, reason: "pipe failed (errno \(errno))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        if let directory = spec.workingDirectory {
            guard let addChdir = Self.addChdir else {
                throw ProcessError(executable: spec.executable, reason: "this C library cannot set a working directory")
            }
            addChdir(&actions, directory)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([spec.executable] + spec.arguments).map { strdup($0) } + [nil]
        let envp = spec.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        guard result == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw ProcessError(executable: spec.executable, reason: "could not start (\(String(cString: strerror(result))))")
        }
        self.pid = pid
        self.stdout = outPipe[0]
        self.stderr = errPipe[0]
    }

    /// Waits for the child on a thread of its own (waitpid blocks).
    func wait() async -> Status {
        await withCheckedContinuation { continuation in
            let pid = self.pid
            let thread = Thread { [self] in
                var raw: Int32 = 0
                while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
                self.reaped.withLock { $0 = true }
                let exited = (raw & 0x7f) == 0
                continuation.resume(returning: Status(exited: exited, code: exited ? (raw >> 8) & 0xff : raw & 0x7f))
            }
            thread.start()
        }
    }

    /// SIGTERM to the group, then SIGKILL after `grace` if the leader is still there.
    func stopGroup(grace: Duration) async {
        kill(-pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if reaped.withLock({ $0 }) { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        // Members of the group may outlive the leader; the group id stays valid while any do.
        kill(-pid, SIGKILL)
    }

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+), which Swift's
    /// Glibc module does not declare: looked up by name.
    private static let addChdir: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(
            symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
    }()

    func killGroup() { kill(-pid, SIGKILL) }

    /// A pipe whose ends close on exec: a child spawned at the same moment by
    /// another run must not inherit them, or this run's reader would wait for
    /// that child to exit. The child's own stdout/stderr are dup2'd copies,
    /// which do not carry the flag.
    private static func closeOnExecPipe(_ fds: inout [Int32]) -> Bool {
        if let pipe2 = Self.pipe2 {
            return fds.withUnsafeMutableBufferPointer { pipe2($0.baseAddress!, O_CLOEXEC) } == 0
        }
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// glibc's `pipe2`, which Swift's Glibc module does not declare.
    private static let pipe2: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32).self)
    }()

    private static func resolve(_ executable: String, in path: String?) throws -> String {
        if executable.contains("/") { return executable }
        for directory in (path ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(executable)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw ProcessError(executable: executable, reason: "not found in PATH")
    }
}

/// Reads a pipe to its end on a thread of its own, splitting lines.
enum LineReader {
    static func read(_ fd: Int32, onLine: @escaping @Sendable (String) -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                var pending = [UInt8]()
                var buffer = [UInt8](repeating: 0, count: 64 * 1024)
                while true {
                    let count = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
                    if count < 0 && errno == EINTR { continue }
                    if count <= 0 { break }
                    pending.append(contentsOf: buffer[0..<count])
                    // The read lines are dropped once per read, not once per line (quadratic).
                    var start = pending.startIndex
                    while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                        onLine(String(decoding: pending[start..<newline], as: UTF8.self))
                        start = newline + 1
                    }
                    pending.removeSubrange(..<start)
                    // A line longer than 1 MiB is passed on in pieces.
                    if pending.count > 1 << 20 {
                        onLine(String(decoding: pending, as: UTF8.self))
                        pending.removeAll(keepingCapacity: true)
                    }
                }
                if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
                close(fd)
                continuation.resume()
            }
            thread.start()
        }
    }
}
