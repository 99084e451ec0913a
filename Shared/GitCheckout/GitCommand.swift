import Foundation
import Logging
import PathBytes
import Processes
import Synchronization

/// Builds and runs git commands for one checkout: the exact environment (a private
/// HOME, no system or global config, no prompts, credentials as `GIT_CONFIG_*`
/// variables, never as arguments), safety settings on the command line, output
/// scrubbed of secrets before anyone sees it.
struct GitCommand: Sendable {
    struct Setup: Sendable {
        var executable = "git"
        /// A private, empty folder: git's HOME, holding the generated `ssh_config`.
        var home: String
        var transports: Set<RepositoryURL.Transport>
        var credentials: GitCredentials
        var timeout: Duration?
        var gracePeriod: Duration
    }

    let setup: Setup
    /// The repository this command fetches from; its failures name it.
    let repository: RepositoryURL
    /// Whose credentials the command carries: the checked-out repository, or nil (a
    /// submodule somewhere else gets none).
    let credentialed: RepositoryURL?
    let scrubber: SecretScrubber
    let events: @Sendable (CheckoutEvent) -> Void
    let logger: Logger

    init(
        setup: Setup, repository: RepositoryURL, events: @escaping @Sendable (CheckoutEvent) -> Void,
        logger: Logger = Logger(label: "buildchain.git-checkout")
    ) {
        self.init(
            setup: setup, repository: repository, credentialed: repository,
            scrubber: SecretScrubber(setup.credentials.secrets), events: events, logger: logger)
    }

    private init(
        setup: Setup, repository: RepositoryURL, credentialed: RepositoryURL?, scrubber: SecretScrubber,
        events: @escaping @Sendable (CheckoutEvent) -> Void, logger: Logger
    ) {
        self.setup = setup
        self.repository = repository
        self.credentialed = credentialed
        self.scrubber = scrubber
        self.events = events
        self.logger = logger
    }

    /// The command that fetches the submodule at `url`: it carries this command's credentials
    /// only when `url` has the same transport, host, port (and SSH login), none otherwise.
    func fetching(submodule url: RepositoryURL) -> GitCommand {
        let sameOrigin = credentialed.map { $0.hasSameOrigin(as: url) } ?? false
        return GitCommand(
            setup: setup, repository: url, credentialed: sameOrigin ? credentialed : nil, scrubber: scrubber,
            events: events, logger: logger)
    }

    var environment: [String: String] {
        var environment = ChildProcess.minimalEnvironment
        // git's messages in English: failures are classified by reading them.
        environment["LC_ALL"] = "C"
        environment["HOME"] = setup.home
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
        environment["GIT_TERMINAL_PROMPT"] = "0"
        let sshConfig = credentialed == nil ? Self.sshConfigWithoutKeys : Self.sshConfig
        environment["GIT_SSH_COMMAND"] = "ssh -F \(Self.shellQuoted("\(setup.home)/\(sshConfig)"))"
        environment["GIT_SSH_VARIANT"] = "ssh"
        if let url = credentialed, url.transport == .https || url.transport == .http,
            let header = setup.credentials.credential(for: url)?.authorizationHeader
        {
            // git sends it only to URLs under this prefix: the same scheme, host and port.
            environment["GIT_CONFIG_COUNT"] = "1"
            environment["GIT_CONFIG_KEY_0"] = "http.\(url.transport.rawValue)://\(url.authority)/.extraHeader"
            environment["GIT_CONFIG_VALUE_0"] = "Authorization: \(header)"
        }
        return environment
    }

    /// Settings every git run gets; children (submodule clones) inherit them.
    var safetyArguments: [String] {
        var settings = ["protocol.allow=never", "protocol.ext.allow=never"]
        settings += setup.transports.map(\.rawValue).sorted().map { "protocol.\($0).allow=always" }
        settings += [
            "credential.helper=", "core.hooksPath=/dev/null", "core.fsmonitor=false", "gc.autoDetach=false",
            "maintenance.autoDetach=false", "advice.detachedHead=false",
        ]
        return settings.flatMap { ["-c", $0] }
    }

    func spec(_ arguments: [String], gitDir: String? = nil, workTree: String? = nil, in directory: String? = nil)
        -> ProcessSpec
    {
        var prefix = safetyArguments
        if let gitDir { prefix.append("--git-dir=\(gitDir)") }
        if let workTree { prefix.append("--work-tree=\(workTree)") }
        return ProcessSpec(
            setup.executable, prefix + arguments, environment: environment, workingDirectory: directory,
            timeout: setup.timeout, gracePeriod: setup.gracePeriod)
    }

    /// Runs git. Output lines go (scrubbed) to the event callback when `stage` is set.
    /// A failed run throws a classified `CheckoutError` unless `check` is false;
    /// cancellation throws `CancellationError`.
    @discardableResult
    func run(
        _ operation: String, _ arguments: [String], gitDir: String? = nil, workTree: String? = nil,
        in directory: String? = nil, stage: CheckoutEvent.Stage? = nil, check: Bool = true
    ) async throws -> GitOutput {
        try Task.checkCancellation()
        let spec = spec(arguments, gitDir: gitDir, workTree: workTree, in: directory)
        logger.debug(
            "running git",
            metadata: ["git.operation": "\(operation)", "git.arguments": "\(arguments.joined(separator: " "))"])
        let collected = Mutex<(stdout: String, stderr: String)>(("", ""))
        let scrubber = self.scrubber
        let events = self.events
        let result = try await ChildProcess.run(spec) { stream, line in
            let line = scrubber.scrub(line)
            collected.withLock { text in
                switch stream {
                case .stdout where text.stdout.utf8.count < 1 << 20: text.stdout += line + "\n"
                case .stderr where text.stderr.utf8.count < 1 << 20: text.stderr += line + "\n"
                default: break
                }
            }
            if let stage, let message = Self.finalProgressSegment(line) {
                events(CheckoutEvent(stage: stage, message: message))
            }
        }
        let text = collected.withLock { $0 }
        if result.cancelled { throw CancellationError() }
        if result.timedOut { throw CheckoutError.timedOut(operation: operation) }
        let output = GitOutput(exitStatus: result.exitStatus, stdout: text.stdout, stderr: text.stderr)
        if check, !output.succeeded {
            logger.debug(
                "git failed", metadata: ["git.operation": "\(operation)", "git.stderr": "\(output.stderr)"])
            throw failure(operation, output: output)
        }
        return output
    }

    /// Reads git's (scrubbed) complaint: authentication and missing repositories
    /// have errors of their own, anything else is `gitFailed` with git's last lines.
    func failure(_ operation: String, output: GitOutput) -> CheckoutError {
        let lowercased = output.stderr.lowercased()
        let repository = repository.text
        let authentication = [
            "could not read username", "could not read password", "authentication failed", "error: 401",
            "error: 403", "permission denied (publickey", "permission denied, please try again", "access denied",
        ]
        let missing = [
            "repository not found", "error: 404", "does not appear to be a git repository",
            "repository not exported", "no such repository",
        ]
        if missing.contains(where: lowercased.contains) || Self.saysHTTPNotFound(lowercased) {
            return .repositoryNotFound(repository: repository)
        }
        if authentication.contains(where: lowercased.contains) { return .authenticationFailed(repository: repository) }
        // A remote that cannot read its own objects ends the stream early too ("early EOF"),
        // but retrying it cannot help.
        let transient = Self.networkFailures.contains(where: lowercased.contains)
            && !Self.remoteCorruption.contains(where: lowercased.contains)
        return .gitFailed(operation: operation, message: Self.summary(output), transient: transient)
    }

    /// What git says when the remote repository itself is missing objects or corrupt.
    static let remoteCorruption = [
        "possible repository corruption", "did not send all necessary objects", "missing blob object",
    ]

    /// What git, curl and ssh say when the network, not the request, failed.
    static let networkFailures = [
        "could not resolve host", "temporary failure in name resolution", "connection refused",
        "connection reset", "timed out", "network is unreachable", "no route to host",
        "failed to connect", "unable to connect", "the remote end hung up unexpectedly", "early eof",
        "unexpected disconnect", "rpc failed", "broken pipe", "returned error: 5", "returned error: 429",
        "gnutls", "ssl_error", "ssl connect error", "tls connection",
    ]

    /// Smart HTTP's 404: `fatal: repository 'https://host/x/' not found`.
    private static func saysHTTPNotFound(_ stderr: String) -> Bool {
        stderr.split(separator: "\n").contains { $0.hasPrefix("fatal: repository '") && $0.hasSuffix("' not found") }
    }

    static func summary(_ output: GitOutput) -> String {
        let lines = output.stderr.split(separator: "\n").compactMap { finalProgressSegment(String($0)) }
            .filter { !$0.hasPrefix("hint:") }
        let text = lines.suffix(6).joined(separator: " | ")
        if text.isEmpty { return "exit status \(output.exitStatus.map(String.init) ?? "none")" }
        return String(text.prefix(2000))
    }

    /// git redraws progress with carriage returns: a "line" is many updates, of which the last counts.
    static func finalProgressSegment(_ line: String) -> String? {
        guard let last = line.split(separator: "\r").last(where: { !$0.allSatisfy(\.isWhitespace) }) else {
            return nil
        }
        var segment = Substring(last)
        while segment.last?.isWhitespace == true { segment = segment.dropLast() }
        return String(segment)
    }

    static let sshConfig = "ssh_config"
    static let sshConfigWithoutKeys = "ssh_config.no-keys"

    /// Creates the private HOME with an `ssh_config` naming the configured keys, and one
    /// naming none for submodules on other hosts.
    static func prepareHome(at home: String, credentials: GitCredentials, knownHostsFile: String) throws {
        try FileManager.default.createDirectory(
            atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var keys = ""
        for (host, credential) in credentials.byHost.sorted(by: { $0.key < $1.key }) {
            guard case .sshKey(let path) = credential, !path.containsByte("\""), !path.containsByte("\n") else { continue }
            let name = Self.hostWithoutPort(host)
            keys += "Host \(name)\n  IdentityFile \"\(path)\"\n"
        }
        let common = """
            Host *
              BatchMode yes
              IdentitiesOnly yes
              StrictHostKeyChecking accept-new
              UserKnownHostsFile "\(knownHostsFile)"
              ConnectTimeout 30

            """
        try Data((keys + common).utf8).write(to: URL(fileURLWithPath: "\(home)/\(sshConfig)"))
        try Data(common.utf8).write(to: URL(fileURLWithPath: "\(home)/\(sshConfigWithoutKeys)"))
    }

    private static func hostWithoutPort(_ key: String) -> String {
        if key.hasPrefix("["), let close = key.firstIndex(of: "]") {
            return String(key[key.index(after: key.startIndex)..<close])
        }
        return key.split(separator: ":").first.map(String.init) ?? key
    }

    static func shellQuoted(_ text: String) -> String {
        // Split at the quote byte: "'" followed by a combining mark is one Character but still ends the quoting.
        "'" + text.parts(separatedBy: "'").joined(separator: "'\\''") + "'"
    }
}

struct GitOutput: Sendable {
    let exitStatus: Int32?
    let stdout: String
    let stderr: String

    var succeeded: Bool { exitStatus == 0 }
}
