import Foundation
import GitCheckout
import Processes
import Synchronization
import Testing

/// Checkouts from repositories served by a real `git daemon` on loopback.
@Suite struct CheckoutTests {
    /// A fixture with `app` served over git://, the daemon stopped and the folder removed afterwards.
    static func withServedRepository(
        files: [String: String] = standardFiles, _ body: (Fixture, GitDaemon, String) async throws -> Void
    ) async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let repository = try await fixture.repository("app", files: files)
        let daemon = try await GitDaemon.start(base: fixture.served)
        do {
            try await body(fixture, daemon, repository)
        } catch {
            await daemon.stop()
            throw error
        }
        await daemon.stop()
    }

    @Test func checksOutABranch() async throws {
        try await Self.withServedRepository { fixture, daemon, repository in
            let head = try await fixture.git(["rev-parse", "HEAD"], in: repository)
            let events = EventLog()
            let result = try await fixture.checkout().run(
                CheckoutRequest(repository: daemon.url("app"), ref: "main"), onEvent: events.record)
            #expect(result.commit == head)
            #expect(result.resolvedRef == "refs/heads/main")
            #expect(result.mirror == .created)
            #expect(result.dockerfile == standardFiles["Dockerfile"])
            #expect(result.dockerfilePath == "Dockerfile")
            #expect(result.repository == daemon.url("app"))
            #expect(
                try await fixture.tarEntries(result.context.path) == [
                    "Dockerfile", "README.md", "app/", "app/main.txt",
                ])
            #expect(result.context.entries == 4)
            #expect(
                result.context.size
                    == Int64(try FileManager.default.attributesOfItem(atPath: result.context.path)[.size] as! Int))
            let (_, sum, _) = try await ChildProcess.output(ProcessSpec("sha256sum", [result.context.path]))
            #expect(sum.hasPrefix(result.context.sha256))
            #expect(events.messages.contains { $0.contains("mirror created") })
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.work)
            #expect(leftovers == [(result.context.path as NSString).lastPathComponent], "the work tree is removed")
        }
    }

    @Test func checksOutLightweightAndAnnotatedTags() async throws {
        try await Self.withServedRepository { fixture, daemon, repository in
            let first = try await fixture.git(["rev-parse", "HEAD"], in: repository)
            try await fixture.git(["tag", "v1"], in: repository)
            let second = try await fixture.commit(["README.md": "two\n"], in: repository, message: "two")
            try await fixture.git(["tag", "-a", "v2", "-m", "release two"], in: repository)
            try await fixture.commit(["README.md": "three\n"], in: repository, message: "three")
            let checkout = fixture.checkout()
            let light = try await checkout.run(CheckoutRequest(repository: daemon.url("app"), ref: "v1"))
            #expect(light.commit == first)
            #expect(light.resolvedRef == "refs/tags/v1")
            let annotated = try await checkout.run(CheckoutRequest(repository: daemon.url("app"), ref: "v2"))
            #expect(annotated.commit == second, "an annotated tag resolves to its commit")
            #expect(annotated.resolvedRef == "refs/tags/v2")
        }
    }

    @Test func checksOutFullAndShortSHAs() async throws {
        try await Self.withServedRepository { fixture, daemon, repository in
            let old = try await fixture.git(["rev-parse", "HEAD"], in: repository)
            try await fixture.commit(["README.md": "newer\n"], in: repository, message: "newer")
            let checkout = fixture.checkout()
            let full = try await checkout.run(CheckoutRequest(repository: daemon.url("app"), ref: old))
            #expect(full.commit == old)
            #expect(full.resolvedRef == nil)
            #expect(full.mirror == .created)
            let again = try await checkout.run(CheckoutRequest(repository: daemon.url("app"), ref: old))
            #expect(again.mirror == .reusedWithoutFetch, "a known full SHA needs no fetch")
            let short = try await checkout.run(
                CheckoutRequest(repository: daemon.url("app"), ref: String(old.prefix(8))))
            #expect(short.commit == old)
            #expect(short.mirror == .fetched)
        }
    }

    @Test func fetchesACommitNoBranchOrTagReaches() async throws {
        try await Self.withServedRepository { fixture, daemon, repository in
            try await fixture.git(["checkout", "--quiet", "-b", "scratch"], in: repository)
            let hidden = try await fixture.commit(["hidden.txt": "x\n"], in: repository, message: "hidden")
            try await fixture.git(["checkout", "--quiet", "main"], in: repository)
            try await fixture.git(["update-ref", "refs/keep/hidden", hidden], in: repository)
            try await fixture.git(["branch", "--quiet", "-D", "scratch"], in: repository)
            let result = try await fixture.checkout().run(CheckoutRequest(repository: daemon.url("app"), ref: hidden))
            #expect(result.commit == hidden)
            #expect(try await fixture.tarEntries(result.context.path).contains("hidden.txt"))
        }
    }

    @Test func checksOutAPullRequestRef() async throws {
        try await Self.withServedRepository { fixture, daemon, repository in
            try await fixture.git(["checkout", "--quiet", "-b", "contribution"], in: repository)
            let proposed = try await fixture.commit(["feature.txt": "new\n"], in: repository, message: "feature")
            try await fixture.git(["checkout", "--quiet", "main"], in: repository)
            try await fixture.git(["update-ref", "refs/pull/123/head", proposed], in: repository)
            try await fixture.git(["branch", "--quiet", "-D", "contribution"], in: repository)
            let checkout = fixture.checkout()
            let result = try await checkout.run(
                CheckoutRequest(repository: daemon.url("app"), ref: "refs/pull/123/head"))
            #expect(result.commit == proposed)
            #expect(result.resolvedRef == "refs/pull/123/head")
            #expect(try await fixture.tarEntries(result.context.path).contains("feature.txt"))
            await #expect(throws: CheckoutError.refNotFound("refs/pull/999/head")) {
                try await checkout.run(CheckoutRequest(repository: daemon.url("app"), ref: "refs/pull/999/head"))
            }
        }
    }

    @Test func headIsTheRemoteDefaultBranch() async throws {
        try await Self.withServedRepository { fixture, daemon, repository in
            let head = try await fixture.git(["rev-parse", "HEAD"], in: repository)
            let result = try await fixture.checkout().run(CheckoutRequest(repository: daemon.url("app"), ref: "HEAD"))
            #expect(result.commit == head)
            #expect(result.resolvedRef == "HEAD")
        }
    }

    @Test func shallowRequestIsServedFromTheFullMirror() async throws {
        try await Self.withServedRepository { fixture, daemon, repository in
            let head = try await fixture.commit(["README.md": "second\n"], in: repository, message: "second")
            let checkout = fixture.checkout()
            let result = try await checkout.run(CheckoutRequest(repository: daemon.url("app"), ref: "main", depth: 1))
            #expect(result.commit == head)
            let mirror =
                checkout.mirrors.folder(for: try RepositoryPolicy().repositoryURL(daemon.url("app"))) + "/mirror.git"
            #expect(try await fixture.git(["--git-dir=\(mirror)", "rev-list", "--count", "main"]) == "2")
        }
    }

    @Test func unknownRefIsRefNotFoundNamingIt() async throws {
        try await Self.withServedRepository { fixture, daemon, _ in
            let error = await #expect(throws: CheckoutError.self) {
                try await fixture.checkout().run(CheckoutRequest(repository: daemon.url("app"), ref: "no-such-branch"))
            }
            #expect(error == .refNotFound("no-such-branch"))
            #expect(error?.description.contains("no-such-branch") == true)
            let sha = String(repeating: "ab", count: 20)
            await #expect(throws: CheckoutError.refNotFound(sha)) {
                try await fixture.checkout().run(CheckoutRequest(repository: daemon.url("app"), ref: sha))
            }
        }
    }

    @Test func missingRepositoryIsRepositoryNotFound() async throws {
        try await Self.withServedRepository { fixture, daemon, _ in
            let error = await #expect(throws: CheckoutError.self) {
                try await fixture.checkout().run(CheckoutRequest(repository: daemon.url("nope"), ref: "main"))
            }
            #expect(error == .repositoryNotFound(repository: daemon.url("nope")))
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.cache).flatMap {
                try FileManager.default.contentsOfDirectory(atPath: "\(fixture.cache)/\($0)")
            }
            #expect(!leftovers.contains { $0.hasPrefix("mirror") }, "a failed clone leaves no mirror behind")
        }
    }

    @Test func reusesTheMirrorAndSeesNewCommits() async throws {
        try await Self.withServedRepository { fixture, daemon, repository in
            let checkout = fixture.checkout()
            let first = try await checkout.run(CheckoutRequest(repository: daemon.url("app"), ref: "main"))
            #expect(first.mirror == .created)
            #expect(!first.mirror.reused)
            let pushed = try await fixture.commit(["later.txt": "later\n"], in: repository, message: "later")
            let second = try await checkout.run(CheckoutRequest(repository: daemon.url("app"), ref: "main"))
            #expect(second.mirror == .fetched)
            #expect(second.mirror.reused)
            #expect(second.commit == pushed)
            #expect(try await fixture.tarEntries(second.context.path).contains("later.txt"))
        }
    }

    @Test func reusesThePackedContextOfTheSameCommit() async throws {
        try await Self.withServedRepository { fixture, daemon, repository in
            let checkout = fixture.checkout(contextCacheLimit: 2)
            let request = CheckoutRequest(repository: daemon.url("app"), ref: "main")
            let first = try await checkout.run(request)
            #expect(!first.contextReused)
            let second = try await checkout.run(request)
            #expect(second.contextReused)
            #expect(second.mirror == .fetched)
            #expect(second.context.path != first.context.path)
            #expect(second.context.sha256 == first.context.sha256)
            #expect(second.context.size == first.context.size && second.context.entries == first.context.entries)
            #expect(second.dockerfile == first.dockerfile)
            try FileManager.default.removeItem(atPath: first.context.path)
            #expect(
                try await fixture.tarEntries(second.context.path) == [
                    "Dockerfile", "README.md", "app/", "app/main.txt",
                ])

            let otherContext = try await checkout.run(
                CheckoutRequest(
                    repository: daemon.url("app"), ref: "main", contextPath: "app", dockerfilePath: "main.txt"))
            #expect(!otherContext.contextReused, "another context folder is packed on its own")
            try await fixture.commit(["new.txt": "new\n"], in: repository, message: "new")
            let afterPush = try await checkout.run(request)
            #expect(!afterPush.contextReused)
            #expect(afterPush.commit != first.commit)
            // Two entries kept: the first commit's root context was the least recently used.
            try await fixture.git(["reset", "--quiet", "--hard", first.commit], in: repository)
            let evicted = try await checkout.run(request)
            #expect(!evicted.contextReused)
        }
    }

    @Test func aDamagedPackedContextIsPackedAgain() async throws {
        try await Self.withServedRepository { fixture, daemon, _ in
            let checkout = fixture.checkout()
            let request = CheckoutRequest(repository: daemon.url("app"), ref: "main")
            let first = try await checkout.run(request)
            try FileManager.default.removeItem(atPath: first.context.path)
            let contexts =
                checkout.mirrors.folder(for: try RepositoryPolicy().repositoryURL(daemon.url("app"))) + "/contexts"
            let tarball = try #require(
                try FileManager.default.contentsOfDirectory(atPath: contexts).first { $0.hasSuffix(".tar.gz") })
            try Data("damaged".utf8).write(to: URL(fileURLWithPath: "\(contexts)/\(tarball)"))
            let second = try await checkout.run(request)
            #expect(!second.contextReused)
            #expect(second.context.sha256 == first.context.sha256)
        }
    }

    @Test func concurrentCheckoutsOfOneRepositoryBothSucceed() async throws {
        try await Self.withServedRepository { fixture, daemon, repository in
            let head = try await fixture.git(["rev-parse", "HEAD"], in: repository)
            let shared = fixture.checkout()
            // Two instances on one cache share no in-process lock: only the file lock keeps them apart.
            let other = fixture.checkout()
            let request = CheckoutRequest(repository: daemon.url("app"), ref: "main")
            async let a = shared.run(request)
            async let b = shared.run(request)
            async let c = other.run(request)
            let results = try await [a, b, c]
            #expect(results.allSatisfy { $0.commit == head })
            #expect(results.filter { $0.mirror == .created }.count == 1)
            #expect(Set(results.map(\.context.sha256)).count == 1)
        }
    }

    @Test func sameCommitGivesAByteIdenticalTarball() async throws {
        try await Self.withServedRepository(
            files: standardFiles.merging(["bin/run.sh": "#!/bin/sh\necho hi\n"]) { $1 }
        ) { fixture, daemon, repository in
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(repository)/bin/run.sh")
            try fixture.symlink("link", to: "app/main.txt", in: repository)
            let head = try await fixture.commit([:], in: repository, message: "exec and link")
            let time = try await fixture.git(["show", "-s", "--format=%ct", head], in: repository)
            let request = CheckoutRequest(repository: daemon.url("app"), ref: "main")
            let first = try await fixture.checkout(contextCacheLimit: 0).run(request)
            try await Task.sleep(for: .seconds(1.1))
            let second = try await fixture.checkout(contextCacheLimit: 0).run(request)
            let cold = try await fixture.checkout(cache: "\(fixture.root)/other-cache").run(request)
            #expect(!second.contextReused && !cold.contextReused, "packed again, not reused")
            #expect(first.context.sha256 == second.context.sha256)
            #expect(first.context.sha256 == cold.context.sha256)
            let listing = try await fixture.tarListing(first.context.path)
            #expect(listing.allSatisfy { $0.contains(" 0/0 ") })
            let stamp = Date(timeIntervalSince1970: Double(time)!)
            let formatter = DateFormatter()
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
            #expect(listing.allSatisfy { $0.contains(formatter.string(from: stamp)) })
            #expect(listing.contains { $0.hasPrefix("-rwxr-xr-x") && $0.hasSuffix("bin/run.sh") })
            #expect(listing.contains { $0.hasPrefix("l") && $0.hasSuffix("link -> app/main.txt") })
        }
    }

    @Test func packsTheContextFolderWithItsDockerignore() async throws {
        let files = [
            "services/api/Dockerfile": "FROM busybox:1.36\n", "services/api/.dockerignore": "*.log\ntmp\n!tmp/keep\n",
            "services/api/main.txt": "main\n", "services/api/debug.log": "noise\n", "services/api/tmp/junk": "x\n",
            "services/api/tmp/keep": "k\n", "services/other/file": "o\n", "Dockerfile": "FROM scratch\n",
        ]
        try await Self.withServedRepository(files: files) { fixture, daemon, _ in
            let result = try await fixture.checkout().run(
                CheckoutRequest(repository: daemon.url("app"), ref: "main", contextPath: "services/api"))
            #expect(result.dockerfilePath == "services/api/Dockerfile")
            #expect(result.contextPath == "services/api")
            #expect(result.dockerfile == "FROM busybox:1.36\n")
            #expect(
                try await fixture.tarEntries(result.context.path) == [
                    ".dockerignore", "Dockerfile", "main.txt", "tmp/", "tmp/keep",
                ])
        }
    }

    /// `dockerfilePath` is relative to the context; a missing one is named from the repository
    /// root, and when the path names a file from the root instead, the error says which.
    @Test func theDockerfileIsRelativeToTheContext() async throws {
        let files = ["sub/Dockerfile": "FROM busybox:1.36\n", "sub/main.txt": "main\n", "docker/Dockerfile": "FROM x\n"]
        try await Self.withServedRepository(files: files) { fixture, daemon, _ in
            let checkout = fixture.checkout()
            let url = daemon.url("app")
            let found = try await checkout.run(
                CheckoutRequest(repository: url, ref: "main", contextPath: "sub", dockerfilePath: "Dockerfile"))
            #expect(found.dockerfilePath == "sub/Dockerfile")
            let error = await #expect(throws: CheckoutError.self) {
                try await checkout.run(
                    CheckoutRequest(repository: url, ref: "main", contextPath: "sub", dockerfilePath: "sub/Dockerfile"))
            }
            #expect(
                error
                    == .pathNotFound(
                        field: "dockerfilePath", path: "sub/sub/Dockerfile",
                        hint:
                            "dockerfile_path is relative to the context (sub); sub/Dockerfile from the repository root is dockerfile_path Dockerfile"
                    ))
            #expect(error?.description.hasPrefix("dockerfilePath not found in the repository: sub/sub/Dockerfile (") == true)
            let outside = await #expect(throws: CheckoutError.self) {
                try await checkout.run(
                    CheckoutRequest(repository: url, ref: "main", contextPath: "sub", dockerfilePath: "docker/Dockerfile"))
            }
            #expect(outside?.description.contains("sub/docker/Dockerfile") == true)
            #expect(outside?.description.contains("docker/Dockerfile exists from the repository root, outside the context") == true)
            await #expect(throws: CheckoutError.pathNotFound(field: "dockerfilePath", path: "sub/nothing")) {
                try await checkout.run(
                    CheckoutRequest(repository: url, ref: "main", contextPath: "sub", dockerfilePath: "nothing"))
            }
        }
    }

    @Test func refusesPathsThatLeaveTheRepository() async throws {
        try await Self.withServedRepository { fixture, daemon, repository in
            try fixture.symlink("outside", to: "/etc", in: repository)
            try fixture.symlink("up", to: "../../../../../../..", in: repository)
            try fixture.symlink("evil/Dockerfile", to: "/etc/hostname", in: repository)
            try fixture.symlink("inside/Dockerfile", to: "../Dockerfile", in: repository)
            try await fixture.commit([:], in: repository, message: "links")
            let checkout = fixture.checkout()
            let url = daemon.url("app")
            await #expect(throws: CheckoutError.pathOutsideRepository(field: "contextPath", path: "outside")) {
                try await checkout.run(CheckoutRequest(repository: url, ref: "main", contextPath: "outside"))
            }
            await #expect(throws: CheckoutError.pathOutsideRepository(field: "contextPath", path: "up")) {
                try await checkout.run(CheckoutRequest(repository: url, ref: "main", contextPath: "up"))
            }
            await #expect(throws: CheckoutError.pathOutsideRepository(field: "dockerfilePath", path: "evil/Dockerfile"))
            {
                try await checkout.run(CheckoutRequest(repository: url, ref: "main", dockerfilePath: "evil/Dockerfile"))
            }
            await #expect(throws: CheckoutError.pathNotFound(field: "contextPath", path: "missing")) {
                try await checkout.run(CheckoutRequest(repository: url, ref: "main", contextPath: "missing"))
            }
            await #expect(throws: CheckoutError.pathNotFound(field: "dockerfilePath", path: "app")) {
                try await checkout.run(CheckoutRequest(repository: url, ref: "main", dockerfilePath: "app"))
            }
            let inside = try await checkout.run(
                CheckoutRequest(repository: url, ref: "main", contextPath: "inside"))
            #expect(inside.dockerfile == standardFiles["Dockerfile"], "a symlink within the repository is fine")
        }
    }

    @Test(arguments: [
        CheckoutRequest(repository: "ext::sh -c touch% /tmp/pwned", ref: "main"),
        CheckoutRequest(repository: "fd::3", ref: "main"),
        CheckoutRequest(repository: "ftp://127.0.0.1/app", ref: "main"),
        CheckoutRequest(repository: "-uhttps://example.com/x", ref: "main"),
        CheckoutRequest(repository: "https://user:secret-token@127.0.0.1/app", ref: "main"),
        CheckoutRequest(repository: "https://127.0.0.1/app", ref: "-main"),
        CheckoutRequest(repository: "https://127.0.0.1/app", ref: "main..other"),
        CheckoutRequest(repository: "https://127.0.0.1/app", ref: "main@{1}"),
        CheckoutRequest(repository: "https://127.0.0.1/app", ref: "main lock"),
        CheckoutRequest(repository: "https://127.0.0.1/app", ref: "main", contextPath: "-C"),
        CheckoutRequest(repository: "https://127.0.0.1/app", ref: "main", contextPath: "../x"),
        CheckoutRequest(repository: "https://127.0.0.1/app", ref: "main", contextPath: "/etc"),
        CheckoutRequest(repository: "https://127.0.0.1/app", ref: "main", dockerfilePath: "-f"),
        CheckoutRequest(repository: "https://127.0.0.1/app", ref: "main", dockerfilePath: "../Dockerfile"),
        CheckoutRequest(repository: "https://127.0.0.1/app", ref: "main", dockerfilePath: "/Dockerfile"),
    ])
    func refusesBadRequestsBeforeRunningAnything(_ request: CheckoutRequest) async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let cache = "\(fixture.root)/untouched-cache"
        let error = await #expect(throws: CheckoutError.self) {
            try await fixture.checkout(policy: RepositoryPolicy(), cache: cache).run(request)
        }
        guard case .invalidRequest = error else {
            Issue.record("expected invalidRequest, got \(String(describing: error))")
            return
        }
        #expect(!FileManager.default.fileExists(atPath: cache), "nothing ran")
        #expect(error?.description.contains("secret-token") == false)
    }
}

final class EventLog: Sendable {
    private let events = Mutex<[CheckoutEvent]>([])

    var record: @Sendable (CheckoutEvent) -> Void { { [self] event in events.withLock { $0.append(event) } } }
    var messages: [String] { events.withLock { $0.map(\.message) } }
}
