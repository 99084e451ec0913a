import Foundation
import GitCheckout
import Processes
import Testing

/// The kept work tree a repository's checkouts move from commit to commit, and the packer's
/// gzip members: what they produce must be what a fresh tree packed in one piece would hold.
@Suite struct KeptWorkTreeTests {
    @Test func aNewCommitMovesTheKeptTreeAndPacksWhatAFreshTreePacks() async throws {
        try await CheckoutTests.withServedRepository { fixture, daemon, repository in
            let request = CheckoutRequest(repository: daemon.url("app"), ref: "main")
            let checkout = fixture.checkout()
            let first = try await checkout.run(request)
            #expect(first.workTreeKept)
            try await fixture.git(["rm", "--quiet", "README.md"], in: repository)
            let pushed = try await fixture.commit(
                ["app/main.txt": "changed\n", "app/new/added.txt": "added\n"], in: repository, message: "move")
            let moved = try await checkout.run(request)
            #expect(moved.commit == pushed)
            #expect(moved.workTreeKept && !moved.contextReused)
            #expect(
                try await fixture.tarEntries(moved.context.path) == [
                    "Dockerfile", "app/", "app/main.txt", "app/new/", "app/new/added.txt",
                ])
            let fresh = try await fixture.checkout(cache: "\(fixture.root)/fresh-cache").run(request)
            #expect(fresh.commit == pushed)
            #expect(fresh.context.sha256 == moved.context.sha256, "the moved tree packs byte for byte as a fresh one")
        }
    }

    @Test func aTreeLeftHalfWayIsRebuiltNotTrusted() async throws {
        try await CheckoutTests.withServedRepository { fixture, daemon, repository in
            let request = CheckoutRequest(repository: daemon.url("app"), ref: "main")
            let checkout = fixture.checkout()
            _ = try await checkout.run(request)
            let folder = checkout.mirrors.folder(for: try RepositoryPolicy().repositoryURL(daemon.url("app")))
            // What a checkout killed while git wrote the tree leaves: no marker, a stray file.
            try FileManager.default.removeItem(atPath: "\(folder)/worktree/git/buildchain-clean")
            try Data("stray\n".utf8).write(to: URL(fileURLWithPath: "\(folder)/worktree/tree/stray.txt"))
            try await fixture.commit(["later.txt": "later\n"], in: repository, message: "later")
            let next = try await checkout.run(request)
            #expect(next.workTreeKept)
            let entries = try await fixture.tarEntries(next.context.path)
            #expect(entries.contains("later.txt"))
            #expect(!entries.contains("stray.txt"))
        }
    }

    @Test func aHeldTreeSendsTheOtherCheckoutToAFreshTree() async throws {
        try await CheckoutTests.withServedRepository { fixture, daemon, repository in
            let request = CheckoutRequest(repository: daemon.url("app"), ref: "main")
            let checkout = fixture.checkout(contextCacheLimit: 0)
            let first = try await checkout.run(request)
            let folder = checkout.mirrors.folder(for: try RepositoryPolicy().repositoryURL(daemon.url("app")))
            // Another process's checkout holding the tree: its flock on the lock file.
            let holder = open("\(folder)/worktree.lock", O_RDWR | O_CLOEXEC)
            #expect(holder >= 0 && flock(holder, LOCK_EX | LOCK_NB) == 0)
            let beside = try await checkout.run(request)
            flock(holder, LOCK_UN)
            close(holder)
            #expect(!beside.workTreeKept)
            #expect(beside.context.sha256 == first.context.sha256)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.work)
            #expect(!leftovers.contains { $0.hasPrefix("checkout-") }, "the fresh tree is removed")
            #expect(try await checkout.run(request).workTreeKept, "the lock released, the tree is kept again")
        }
    }

    @Test func aContextLargerThanAPieceIsSeveralMembersOfOneStream() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let context = "\(fixture.root)/context"
        try FileManager.default.createDirectory(atPath: "\(context)/data", withIntermediateDirectories: true)
        try Data("FROM scratch\n".utf8).write(to: URL(fileURLWithPath: "\(context)/Dockerfile"))
        for index in 0..<3 {
            // 1.5 MiB each, a little compressible: 4.5 MiB of tar in 1 MiB pieces.
            let bytes = (0..<(3 << 19)).map { UInt8(truncatingIfNeeded: ($0 * 7919 + index) % 251) }
            try Data(bytes).write(to: URL(fileURLWithPath: "\(context)/data/blob-\(index).bin"))
        }
        let packer = ContextPacker(pieceMegabytes: 1)
        let first = try await packer.pack(
            context: context, dockerfile: "Dockerfile", modificationTime: 1_700_000_000, output: "\(fixture.root)/a.tar.gz")
        let second = try await packer.pack(
            context: context, dockerfile: "Dockerfile", modificationTime: 1_700_000_000, output: "\(fixture.root)/b.tar.gz")
        #expect(first.sha256 == second.sha256)
        #expect(
            try await fixture.tarEntries(first.path) == [
                "Dockerfile", "data/", "data/blob-0.bin", "data/blob-1.bin", "data/blob-2.bin",
            ])
        // gzip -l counts members; -t checks every one.
        let (tested, _, errors) = try await ChildProcess.output(ProcessSpec("gzip", ["-t", first.path]))
        #expect(tested.succeeded, "\(errors)")
        let extracted = "\(fixture.root)/extracted"
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        let (unpacked, _, _) = try await ChildProcess.output(ProcessSpec("tar", ["-xzf", first.path, "-C", extracted]))
        #expect(unpacked.succeeded)
        for index in 0..<3 {
            #expect(
                FileManager.default.contents(atPath: "\(extracted)/data/blob-\(index).bin")
                    == FileManager.default.contents(atPath: "\(context)/data/blob-\(index).bin"))
        }
        // One piece: a single member. The stream the members decompress to is the same archive.
        let whole = try await ContextPacker(pieceMegabytes: 64).pack(
            context: context, dockerfile: "Dockerfile", modificationTime: 1_700_000_000, output: "\(fixture.root)/c.tar.gz")
        #expect(whole.sha256 != first.sha256, "several members are not the bytes of one")
        #expect(try await Self.plainDigest(whole.path) == (try await Self.plainDigest(first.path)))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.root).filter {
            $0.contains(".tar.gz.")
        }
        #expect(leftovers.isEmpty, "no pieces or file lists left behind")
    }

    /// SHA-256 of the decompressed stream.
    static func plainDigest(_ path: String) async throws -> String {
        let (result, stdout, _) = try await ChildProcess.output(
            ProcessSpec("sh", ["-c", #"gzip -dc -- "$1" | sha256sum"#, "sh", path]))
        #expect(result.succeeded)
        return String(stdout.prefix(64))
    }
}
