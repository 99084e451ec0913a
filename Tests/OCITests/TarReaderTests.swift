import Foundation
import OCI
import Testing

@Suite(.enabled(if: Shell.which("tar") != nil, "needs GNU tar"))
struct TarReaderTests {
    /// 150 characters: too long for the 100-byte name field.
    static let longPath = String(repeating: "d", count: 60) + "/" + String(repeating: "f", count: 85) + ".txt"

    /// Writes a small tree with `tar --format=<format>` and returns the archive path.
    private func makeArchive(format: String, in directory: String) async throws -> String {
        let tree = directory + "/tree"
        let fm = FileManager.default
        try fm.createDirectory(
            atPath: tree + "/" + (Self.longPath as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        try Data("hello, long name\n".utf8).write(to: URL(fileURLWithPath: tree + "/" + Self.longPath))
        try Data().write(to: URL(fileURLWithPath: tree + "/empty"))
        // 1000 bytes: content that does not end on a 512-byte block.
        try Data(repeating: 0x61, count: 1000).write(to: URL(fileURLWithPath: tree + "/odd"))
        // ustar cannot hold a link target over 100 bytes; the others can.
        try fm.createSymbolicLink(
            atPath: tree + "/link", withDestinationPath: format == "ustar" ? "odd" : Self.longPath)
        let archive = directory + "/\(format).tar"
        try await Shell.run([
            "tar", "--format=\(format)", "-cf", archive, "-C", tree, "odd", "empty", "link", Self.longPath,
        ])
        return archive
    }

    @Test(arguments: ["gnu", "pax", "ustar"])
    func readsNamesSizesAndOffsets(format: String) async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let archive = try await makeArchive(format: format, in: directory)
            let entries = try TarReader.entries(at: archive)
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: archive)))
            func content(_ entry: TarEntry) -> [UInt8] {
                Array(bytes[Int(entry.dataOffset)..<Int(entry.dataOffset + entry.size)])
            }

            let odd = try #require(entries.first { $0.name == "odd" })
            #expect(odd.kind == .file)
            #expect(odd.size == 1000)
            #expect(content(odd) == [UInt8](repeating: 0x61, count: 1000))

            let empty = try #require(entries.first { $0.name == "empty" })
            #expect(empty.size == 0)

            let long = try #require(entries.first { $0.name == Self.longPath }, "entries: \(entries.map(\.name))")
            #expect(long.kind == .file)
            #expect(String(decoding: content(long), as: UTF8.self) == "hello, long name\n")

            let link = try #require(entries.first { $0.name == "link" })
            #expect(link.kind == .symbolicLink)
            #expect(link.linkName == (format == "ustar" ? "odd" : Self.longPath))
            #expect(link.size == 0)
        }
    }

    @Test func gnuLongNameMembersAreNotEntries() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let archive = try await makeArchive(format: "gnu", in: directory)
            let entries = try TarReader.entries(at: archive)
            // GNU tar wrote the long name and link target through `L` and `K` members, which must not show up.
            #expect(!entries.contains { $0.name.contains("@LongLink") })
            #expect(entries.map(\.name) == ["odd", "empty", "link", Self.longPath])
            #expect(entries.first { $0.name == "link" }?.linkName == Self.longPath)
        }
    }

    @Test func rejectsGzipCompressedArchives() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let archive = try await makeArchive(format: "gnu", in: directory)
            try await Shell.run(["gzip", "-k", archive])
            #expect(throws: TarError.compressed("gzip")) { try TarReader.entries(at: archive + ".gz") }
        }
    }

    @Test func rejectsTruncatedArchives() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let archive = try await makeArchive(format: "ustar", in: directory)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
            // Cut inside the content of the first member.
            let cut = directory + "/cut.tar"
            try bytes.prefix(700).write(to: URL(fileURLWithPath: cut))
            #expect(throws: TarError.self) { try TarReader.entries(at: cut) }
        }
    }

    @Test func rejectsFilesThatAreNotTar() async throws {
        try await TestEnvironment.withTemporaryDirectory { directory in
            let path = directory + "/noise"
            try Data(repeating: 0x41, count: 2048).write(to: URL(fileURLWithPath: path))
            #expect(throws: TarError.self) { try TarReader.entries(at: path) }
        }
    }
}
