import BuildDrivers
import Foundation
import Testing

/// Makes the archives once for the suite (`Fixtures/make-tarballs.py`) and removes them afterwards.
struct TestArchives: SuiteTrait, TestScoping {
    struct Location: Sendable {
        let directory: String
        let token: String
        func archive(_ name: String) -> String { directory + "/" + name }
    }

    @TaskLocal static var location: Location?

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let location = Location(directory: directory, token: TestEnvironment.uniqueName("tar"))
            try await Command.run(["python3", TestEnvironment.fixture("make-tarballs.py"), directory, location.token])
            try await Self.$location.withValue(location) { try await function() }
        }
    }
}

@Suite(
    .enabled(
        if: TestEnvironment.isCI || FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs python3"),
    TestArchives())
struct SafeTarExtractorTests {
    /// The suite's archives, and a temporary folder of the test's own with an empty `dest/` path in it.
    struct Workspace {
        let directory: String
        let archives: TestArchives.Location
        var token: String { archives.token }
        var destination: String { directory + "/dest" }
        func archive(_ name: String) -> String { archives.archive(name) }
    }

    static func withArchives(_ body: (Workspace) async throws -> Void) async throws {
        let archives = try #require(TestArchives.location)
        try await TestEnvironment.withTemporaryDirectory { directory in
            try await body(Workspace(directory: directory, archives: archives))
        }
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let archive: String
        let kind: TarExtractionError.Kind
        /// The entry the error must name; `{token}` stands for the run's unique token.
        let entry: String?
        var limits = SafeTarExtractor.Limits()
        var testDescription: String { archive }
    }

    static let refusals: [Refusal] = [
        Refusal(archive: "parent.tar.gz", kind: .parentReference, entry: "../{token}-escape"),
        Refusal(archive: "absolute.tar.gz", kind: .absolutePath, entry: "/{token}-abs"),
        Refusal(archive: "hidden-parent.tar.gz", kind: .parentReference, entry: "\u{0600}/../../\u{0301}{token}-escape"),
        Refusal(archive: "hidden-link.tar.gz", kind: .symbolicLinkOutside, entry: "s"),
        Refusal(archive: "symlink-etc.tar.gz", kind: .symbolicLinkOutside, entry: "link"),
        Refusal(archive: "through-link.tar.gz", kind: .throughSymbolicLink, entry: "sub/file"),
        Refusal(archive: "relative-escape.tar.gz", kind: .symbolicLinkOutside, entry: "a/up"),
        Refusal(archive: "chained-escape.tar.gz", kind: .symbolicLinkOutside, entry: "s"),
        Refusal(archive: "late-escape.tar.gz", kind: .symbolicLinkOutside, entry: "s"),
        Refusal(archive: "hardlink-outside.tar.gz", kind: .hardLinkOutside, entry: "h"),
        Refusal(archive: "hardlink-absolute.tar.gz", kind: .hardLinkOutside, entry: "h"),
        Refusal(archive: "device.tar.gz", kind: .specialFile, entry: "dev/null"),
        Refusal(archive: "fifo.tar.gz", kind: .specialFile, entry: "pipe"),
        Refusal(archive: "conflict.tar.gz", kind: .conflictingEntry, entry: "x"),
        Refusal(
            archive: "large.tar.gz", kind: .tooLarge, entry: "big.bin", limits: .init(maxTotalBytes: 1 << 20)),
        Refusal(archive: "many.tar.gz", kind: .tooManyEntries, entry: "f10.txt", limits: .init(maxEntries: 10)),
        // 64 MiB of zeros in 64 KiB of gzip: stopped while decompressing.
        Refusal(
            archive: "bomb.tar.gz", kind: .tooLarge, entry: nil,
            limits: .init(maxTotalBytes: 8 << 20, maxArchiveBytes: 9 << 20)),
        Refusal(archive: "corrupt.tar.gz", kind: .invalidArchive, entry: nil),
    ]

    @Test(arguments: refusals)
    func refusesUnsafeArchiveNamingTheEntry(_ refusal: Refusal) async throws {
        try await Self.withArchives { workspace in
            let extractor = SafeTarExtractor(limits: refusal.limits, temporaryDirectory: workspace.directory)
            let error = await #expect(throws: TarExtractionError.self) {
                try await extractor.extract(archive: workspace.archive(refusal.archive), into: workspace.destination)
            }
            #expect(error?.kind == refusal.kind)
            let entry = refusal.entry?.replacingOccurrences(of: "{token}", with: workspace.token)
            #expect(error?.entry == entry)
            if let entry { #expect(error?.description.contains(entry) == true) }
            // Nothing written: no destination, nothing beside the archives, nothing at the root.
            #expect(!FileManager.default.fileExists(atPath: workspace.destination))
            let left = try FileManager.default.contentsOfDirectory(atPath: workspace.directory)
            #expect(left.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: "/\(workspace.token)-abs"))
            #expect(!FileManager.default.fileExists(atPath: "/\(workspace.token)-escape"))
        }
    }

    @Test(arguments: ["normal.tar.gz", "normal.tar"])
    func extractsNormalArchiveExactly(_ name: String) async throws {
        try await Self.withArchives { workspace in
            let extractor = SafeTarExtractor(temporaryDirectory: workspace.directory)
            let summary = try await extractor.extract(archive: workspace.archive(name), into: workspace.destination)
            #expect(summary.files == 7)
            #expect(summary.symbolicLinks == 2)
            #expect(summary.hardLinks == 1)
            #expect(summary.totalBytes == 15 + 19 + 1 + 1 + 4 + 5 + 22)

            let root = workspace.destination
            let files = FileManager.default
            func contents(_ path: String) throws -> String {
                try String(contentsOfFile: root + "/" + path, encoding: .utf8)
            }
            func mode(_ path: String) throws -> Int {
                var info = stat()
                #expect(lstat(root + "/" + path, &info) == 0, "\(path)")
                return Int(info.st_mode & 0o7777)
            }
            func mtime(_ path: String) -> Int {
                var info = stat()
                lstat(root + "/" + path, &info)
                return info.st_mtim.tv_sec
            }
            #expect(try contents("app/src/lib/code.txt") == "print('hello')\n")
            #expect(try contents("app/run.sh") == "#!/bin/sh\necho run\n")
            #expect(try contents("top.txt") == "top\n")
            #expect(try contents("implicit/parent/file.txt") == "deep\n")
            #expect(try contents("Dockerfile") == "FROM scratch\nCOPY . /\n")
            // Modes: executable bits kept, group/other write and setuid dropped, folders 0755.
            #expect(try mode("app/run.sh") == 0o755)
            #expect(try mode("app/src/lib/code.txt") == 0o644)
            #expect(try mode("app/group-writable.txt") == 0o644)
            #expect(try mode("app/setuid") == 0o755)
            #expect(try mode("app/src") == 0o755)
            #expect(try mode("implicit/parent") == 0o755)
            // Links inside, as they were.
            #expect(try files.destinationOfSymbolicLink(atPath: root + "/app/current") == "src/lib")
            #expect(try files.destinationOfSymbolicLink(atPath: root + "/app/code") == "src/lib/code.txt")
            #expect(try contents("app/current/code.txt") == "print('hello')\n")
            var hard = stat()
            var original = stat()
            lstat(root + "/app/hard.txt", &hard)
            lstat(root + "/app/src/lib/code.txt", &original)
            #expect(hard.st_ino == original.st_ino)
            // Times from the archive.
            #expect(mtime("app/run.sh") == 1_600_000_000)
            #expect(mtime("app/current") == 1_600_000_000)
            #expect(mtime("app") == 1_600_000_000)
            // Exactly these entries.
            let listed = try files.subpathsOfDirectory(atPath: root).sorted()
            #expect(
                listed == [
                    "Dockerfile", "app", "app/code", "app/current", "app/group-writable.txt", "app/hard.txt",
                    "app/run.sh",
                    "app/setuid", "app/src", "app/src/lib", "app/src/lib/code.txt", "implicit", "implicit/parent",
                    "implicit/parent/file.txt", "top.txt",
                ])
            // The decompressed copy is gone.
            #expect(try files.contentsOfDirectory(atPath: workspace.directory) == ["dest"])
        }
    }

    @Test func refusesDestinationThatIsNotEmpty() async throws {
        try await Self.withArchives { workspace in
            try FileManager.default.createDirectory(atPath: workspace.destination, withIntermediateDirectories: true)
            try Data("keep".utf8).write(to: URL(fileURLWithPath: workspace.destination + "/existing"))
            let error = await #expect(throws: TarExtractionError.self) {
                try await SafeTarExtractor().extract(
                    archive: workspace.archive("normal.tar.gz"), into: workspace.destination)
            }
            #expect(error?.kind == .destinationNotEmpty)
            #expect(try String(contentsOfFile: workspace.destination + "/existing", encoding: .utf8) == "keep")
        }
    }
}
