/// How the buildah driver isolates a Dockerfile's `RUN` steps from the machine and its services.
///
/// `oci` (the default) runs every step with runc in its own user, PID, IPC, UTS, mount and
/// network namespaces: root inside is an unprivileged host UID of `userRange`, the step sees only
/// its own processes, and its network is `network` (a netavark bridge whose host addresses are
/// firewalled off by deploy/local/build-network.sh, or `none`: loopback only). Per step, at most
/// `pidsLimit` processes (RLIMIT_NPROC), `memoryLimitMiB` of memory (cgroup, no swap) and files of
/// at most `fileSizeLimitMiB` each (RLIMIT_FSIZE).
///
/// `chroot` is buildah's chroot isolation: host PID, network and user namespaces, real root.
/// Only for trusted Dockerfiles (and to measure what the sandbox costs).
public struct BuildSandbox: Sendable, Equatable {
    public enum Isolation: String, Sendable, Codable {
        case oci, chroot
    }

    /// Host IDs that root and the other users of a step map to: `start` … `start + count - 1`.
    public struct IDRange: Sendable, Equatable {
        public var start: Int
        public var count: Int

        public init(start: Int, count: Int) {
            self.start = start
            self.count = count
        }

        /// `start:count`, e.g. `1000000000:65536`; nil when malformed, when root would map to host
        /// root (start 0) or when the range is too small for an image's usual users (< 65536).
        public init?(_ text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let start = Int(parts[0]), let count = Int(parts[1]), start > 0, count >= 65536,
                start <= Int(UInt32.max) - count
            else { return nil }
            self.init(start: start, count: count)
        }

        /// buildah's `container:host:count` mapping of this range.
        var mapping: String { "0:\(start):\(count)" }
    }

    /// The netavark network deploy/local/build-network.sh creates.
    public static let defaultNetwork = "buildchain-build"
    /// The /etc/subuid range deploy/local/build-network.sh reserves.
    public static let defaultUserRange = IDRange(start: 1_000_000_000, count: 65536)

    public var isolation: Isolation
    /// The OCI runtime, looked up in the builder's PATH, or a path.
    public var runtime: String
    public var userRange: IDRange
    /// A netavark network name, or `none` for a network namespace with loopback only.
    public var network: String
    public var pidsLimit: Int
    public var memoryLimitMiB: Int
    public var fileSizeLimitMiB: Int

    public init(
        isolation: Isolation = .oci, runtime: String = "runc", userRange: IDRange = Self.defaultUserRange,
        network: String = Self.defaultNetwork, pidsLimit: Int = 1024, memoryLimitMiB: Int = 4096,
        fileSizeLimitMiB: Int = 8192
    ) {
        self.isolation = isolation
        self.runtime = runtime
        self.userRange = userRange
        self.network = network
        self.pidsLimit = pidsLimit
        self.memoryLimitMiB = memoryLimitMiB
        self.fileSizeLimitMiB = fileSizeLimitMiB
    }

    /// buildah's chroot isolation, no sandbox.
    public static let chroot = BuildSandbox(isolation: .chroot)

    /// The `buildah bud` flags for this sandbox.
    public var budArguments: [String] {
        guard isolation == .oci else { return ["--isolation", "chroot"] }
        let memory = "\(memoryLimitMiB)m"
        return [
            "--isolation", "oci", "--runtime", runtime,
            "--userns-uid-map", userRange.mapping, "--userns-gid-map", userRange.mapping,
            // PID, IPC, UTS and mount namespaces are private under oci by default; buildah 1.28
            // ignores `--network none` when `--pid private` or `--uts private` is given as well.
            "--cgroupns", "private", "--network", network,
            "--ulimit", "nproc=\(pidsLimit):\(pidsLimit)",
            "--ulimit", "fsize=\(fileSizeLimitMiB * 1_048_576):\(fileSizeLimitMiB * 1_048_576)",
            "--memory", memory, "--memory-swap", memory,
        ]
    }
}
