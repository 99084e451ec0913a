import Foundation
import Processes
import Testing

@testable import GitCheckout

@Suite struct GitCommandTests {
    let token = "ghp_\(UUID().uuidString)"

    func command(credentials: GitCredentials, repository: String) throws -> GitCommand {
        let setup = GitCommand.Setup(
            home: "/tmp/private-home", transports: RepositoryPolicy().allowedTransports, credentials: credentials,
            timeout: .seconds(5), gracePeriod: .seconds(1))
        return GitCommand(
            setup: setup, repository: try RepositoryPolicy().repositoryURL(repository), events: { _ in })
    }

    @Test func putsTheTokenInTheEnvironmentNeverInArguments() throws {
        setenv("BUILDCHAIN_PARENT_ONLY", "inherited", 1)
        let git = try command(
            credentials: GitCredentials(["Example.com": .token(token)]), repository: "https://example.com/org/repo")
        let spec = git.spec(
            ["fetch", "--prune", "https://example.com/org/repo", "+refs/heads/*:refs/heads/*"], gitDir: "/cache/m")
        let basic = Data("x-access-token:\(token)".utf8).base64EncodedString()
        let arguments = spec.arguments.joined(separator: " ")
        #expect(!arguments.contains(token))
        #expect(!arguments.contains(basic))
        #expect(spec.environment["GIT_CONFIG_COUNT"] == "1")
        #expect(spec.environment["GIT_CONFIG_KEY_0"] == "http.https://example.com/.extraHeader")
        #expect(spec.environment["GIT_CONFIG_VALUE_0"] == "Authorization: Basic \(basic)")
        #expect(spec.environment["GIT_TERMINAL_PROMPT"] == "0")
        #expect(spec.environment["GIT_CONFIG_NOSYSTEM"] == "1")
        #expect(spec.environment["HOME"] == "/tmp/private-home")
        #expect(spec.environment["BUILDCHAIN_PARENT_ONLY"] == nil)
        #expect(spec.arguments.contains("protocol.ext.allow=never"))
        #expect(spec.arguments.contains("protocol.allow=never"))
        #expect(!spec.arguments.contains("protocol.file.allow=always"))
    }

    @Test func carriesOnlyTheCredentialsOfTheHostsInvolved() throws {
        let credentials = GitCredentials([
            "example.com": .token(token), "other.example:8443": .bearer("other-secret"),
            "git.example": .sshKey(path: "/keys/id_ed25519"),
        ])
        let git = try command(credentials: credentials, repository: "https://unrelated.example/repo")
        #expect(git.environment["GIT_CONFIG_COUNT"] == nil)
        #expect(!git.environment.values.contains { $0.contains(token) || $0.contains("other-secret") })
        #expect(git.environment["GIT_SSH_COMMAND"] == "ssh -F '/tmp/private-home/ssh_config'")
    }

    /// A submodule's run carries the superproject's credentials only on the same scheme, host and
    /// port (and SSH login); elsewhere none, even where credentials are configured for that host.
    @Test(arguments: [
        ("https://example.com/org/lib", true), ("https://EXAMPLE.com:443/other/lib", true),
        ("http://example.com/org/lib", false), ("https://example.com:8443/org/lib", false),
        ("https://evil.example/org/lib", false), ("https://other.example:8443/lib", false),
        ("ssh://git@example.com/org/lib", false), ("git://example.com/org/lib", false),
    ])
    func carriesTheSuperprojectsCredentialsOnlyToTheSameOrigin(submodule: String, carries: Bool) throws {
        let credentials = GitCredentials([
            "example.com": .token(token), "other.example:8443": .bearer("other-secret"),
            "example.com:8443": .bearer("port-secret"),
        ])
        let policy = RepositoryPolicy(allowPlainHTTP: true)
        let git = try command(credentials: credentials, repository: "https://example.com/org/app")
        let fetching = git.fetching(submodule: try policy.repositoryURL(submodule))
        let environment = fetching.environment
        #expect(fetching.repository.text == (try policy.repositoryURL(submodule)).text)
        #expect((environment["GIT_CONFIG_KEY_0"] == "http.https://example.com/.extraHeader") == carries)
        #expect(environment["GIT_CONFIG_COUNT"] == (carries ? "1" : nil))
        #expect(!environment.values.contains { $0.contains("other-secret") || $0.contains("port-secret") })
        let sshConfig = carries ? "ssh_config" : "ssh_config.no-keys"
        #expect(environment["GIT_SSH_COMMAND"] == "ssh -F '/tmp/private-home/\(sshConfig)'")
    }

    @Test func anSSHKeyGoesOnlyToTheSameHostAndLogin() throws {
        let setup = GitCommand.Setup(
            home: "/tmp/private-home", transports: RepositoryPolicy().allowedTransports,
            credentials: GitCredentials(["git.example": .sshKey(path: "/keys/id")]), timeout: .seconds(5),
            gracePeriod: .seconds(1))
        let policy = RepositoryPolicy()
        let git = GitCommand(setup: setup, repository: try policy.repositoryURL("git@git.example:org/app"), events: { _ in })
        let keyed = "ssh -F '/tmp/private-home/ssh_config'"
        #expect(git.fetching(submodule: try policy.repositoryURL("ssh://git@git.example/org/lib")).environment["GIT_SSH_COMMAND"] == keyed)
        for other in ["git@evil.example:org/lib", "root@git.example:org/lib", "ssh://git@git.example:2222/org/lib"] {
            #expect(git.fetching(submodule: try policy.repositoryURL(other)).environment["GIT_SSH_COMMAND"] != keyed, "\(other)")
        }
    }

    @Test func writesSSHKeysIntoThePrivateSSHConfig() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let home = "\(fixture.root)/git-home"
        try GitCommand.prepareHome(
            at: home, credentials: GitCredentials(["git.example:2222": .sshKey(path: "/keys/id_ed25519")]),
            knownHostsFile: "\(fixture.cache)/ssh_known_hosts")
        let withoutKeys = try String(contentsOfFile: "\(home)/ssh_config.no-keys", encoding: .utf8)
        #expect(!withoutKeys.contains("IdentityFile"))
        #expect(withoutKeys.contains("IdentitiesOnly yes"))
        let config = try String(contentsOfFile: "\(home)/ssh_config", encoding: .utf8)
        #expect(config.contains("Host git.example\n  IdentityFile \"/keys/id_ed25519\""))
        #expect(config.contains("IdentitiesOnly yes"))
        #expect(config.contains("StrictHostKeyChecking accept-new"))
        #expect(config.contains("BatchMode yes"))
        let mode = try FileManager.default.attributesOfItem(atPath: home)[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    @Test func scrubsEveryFormOfTheToken() {
        let credentials = GitCredentials(["example.com": .token(token)])
        let scrubber = SecretScrubber(credentials.secrets)
        let basic = Data("x-access-token:\(token)".utf8).base64EncodedString()
        #expect(scrubber.scrub("fatal: bad token \(token) here") == "fatal: bad token *** here")
        #expect(scrubber.scrub("Authorization: Basic \(basic)") == "Authorization: Basic ***")
        #expect(scrubber.scrub("https://x-access-token:\(token)@example.com") == "https://***@example.com")
        #expect(!"\(GitCredential.token(token))".contains(token))
        #expect(!String(reflecting: GitCredential.bearer(token)).contains(token))
        #expect(!"\(credentials)".contains(token))
    }

    @Test func classifiesGitFailures() throws {
        let git = try command(credentials: GitCredentials(), repository: "https://example.com/r")
        func classify(_ stderr: String) -> CheckoutError {
            git.failure("fetch", output: GitOutput(exitStatus: 128, stdout: "", stderr: stderr))
        }
        let repository = "https://example.com/r"
        #expect(
            classify("fatal: could not read Username for 'https://example.com': terminal prompts disabled\n")
                == .authenticationFailed(repository: repository))
        #expect(
            classify("git@example.com: Permission denied (publickey).\n")
                == .authenticationFailed(repository: repository))
        #expect(
            classify("remote: Repository not found.\nfatal: repository 'x' not found\n")
                == .repositoryNotFound(repository: repository))
        #expect(
            classify("fatal: remote error: access denied or repository not exported: /x\n")
                == .repositoryNotFound(repository: repository))
        #expect(
            classify("fatal: repository 'https://example.com/r/' not found\n")
                == .repositoryNotFound(repository: repository))
        #expect(
            classify("hint: something\nfatal: unable to connect to example.com\n")
                == .gitFailed(operation: "fetch", message: "fatal: unable to connect to example.com", transient: true))
        for network in [
            "fatal: unable to access 'https://example.com/r/': Could not resolve host: example.com",
            "fatal: unable to access 'https://example.com/r/': The requested URL returned error: 503",
            "fatal: unable to connect to 127.0.0.1:\n127.0.0.1[0: 127.0.0.1]: errno=Connection refused",
            "error: RPC failed; curl 56 GnuTLS recv error (-54)\nfatal: early EOF",
            "ssh: connect to host example.com port 22: Connection timed out",
        ] {
            #expect(classify(network).isTransient, "\(network)")
        }
        for lasting in [
            "fatal: transport 'file' not allowed", "fatal: cannot strip one component off url '.'",
            "fatal: No url found for submodule path 'x' in .gitmodules",
            // what fetching from a repository with a missing object printed (a real snapshot)
            "remote: fatal: unable to read c704bad622a45afeefb8d272344c58ee6b11376e\nerror: git upload-pack: "
                + "git-pack-objects died with error.\nfatal: git upload-pack: aborting due to possible repository "
                + "corruption on the remote side.\nfatal: early EOF\nfatal: fetch-pack: invalid index-pack output",
        ] {
            #expect(!classify(lasting).isTransient, "\(lasting)")
        }
        #expect(!classify("remote: Repository not found.").isTransient)
        #expect(!classify("fatal: Authentication failed for 'https://example.com/r/'").isTransient)
    }
}
