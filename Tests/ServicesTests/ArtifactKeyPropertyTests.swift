import ArtifactService
import Foundation
import HTTPClient
import Hummingbird
import HummingbirdTesting
import PathBytes
import PropertyBased
import S3
import ServiceKit
import StageClients
import Testing

/// Keys made of separators, dots, combining marks, prepended concatenation marks, fullwidth
/// and percent-encoded look-alikes, sent to artifact-service on a real socket exactly as
/// generated (`curl --path-as-is`, as libcurl here does): a key is either refused with
/// `INVALID_KEY`, or its object lies inside the store under exactly that key and reads back
/// byte for byte; nothing is ever written beside the store.
@Suite(.enabled(if: TestEnvironment.hasDatabaseOrCI, "needs the local stack (deploy/local/up.sh --infra-only)"))
struct ArtifactKeyPropertyTests {
    let base = ArtifactServiceTests()

    @Test(arguments: [false, true])
    func anAcceptedKeysObjectLiesInsideTheStoreAndReadsBack(s3: Bool) async throws {
        // The store three folders down, so a key that climbs out has somewhere to land.
        let outer = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outer) }
        var configuration = try base.configuration(s3: s3)
        configuration.root = "\(outer)/a/b/root"
        let objects = "\(configuration.root)/objects"
        let bucket = try base.bucket()
        let http = HTTPClient()
        let counts = Counts()
        try await buildApplication(configuration: configuration).test(.live) { client in
            let service = "http://127.0.0.1:\(try #require(client.port))/v1/artifacts/"
            let prefix = base.prefix
            // Keys of 1 to 8 pieces under the test's prefix.
            let keys = Gen.element(of: HiddenSeparatorKeys.pieces).compactMap { $0 }.array(of: 1...8)
                .map { prefix + "/" + $0.joined() }
            await propertyCheck(count: 60, input: keys) { key in
                let url = service + HiddenSeparatorKeys.wire(key)
                let content = Array("object \(key)\n".utf8) + [0, 0xFF, 0x0D, 0x0A]
                let put = try await http.send(
                    ClientRequest(method: "PUT", url: url, headers: base.headers, body: .bytes(content), timeout: .seconds(10),
                        retry: .never))
                if put.status == 409, !s3 {
                    // A folder left by an earlier key (deleting an object keeps its folders) stands at this one.
                    var info = stat()
                    #expect(lstat("\(objects)/\(key)", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR, "\(key.debugDescription): 409")
                    return
                }
                guard put.status == 201 else {
                    #expect(put.status == 400 && String(decoding: put.body, as: UTF8.self).contains("INVALID_KEY"), "\(key.debugDescription): \(put.status)")
                    #expect(ArtifactKeyRule.violation(in: key) != nil, "\(key.debugDescription) refused though the rule takes it")
                    counts.add(refused: true)
                    return
                }
                counts.add(refused: false)
                #expect(ArtifactKeyRule.violation(in: key) == nil, "\(key.debugDescription) stored though the rule refuses it")
                let get = try await http.send(
                    ClientRequest(url: url, headers: base.headers, timeout: .seconds(10), retry: .never))
                #expect(get.status == 200 && get.body == content, "\(key.debugDescription): read back \(get.status)")
                if s3 {
                    let listed = try await bucket.listObjects(prefix: prefix + "/").objects.map(\.key)
                    #expect(listed.map { Array($0.utf8) } == [Array(key.utf8)], "\(key.debugDescription): the bucket holds \(listed)")
                    var stored: [UInt8] = []
                    for try await chunk in try await bucket.getObject(key: key).body { stored += chunk }
                    #expect(stored == content, "\(key.debugDescription) differs in the bucket")
                } else {
                    let path = "\(objects)/\(key)"
                    #expect(FileManager.default.contents(atPath: path).map(Array.init) == content, "\(key.debugDescription)")
                    // Exactly at its key: resolving the path changes nothing (no dot segment the kernel saw).
                    let real = try #require(Self.realPath(path))
                    let root = try #require(Self.realPath(objects))
                    #expect(Array(real.utf8) == Array((root + "/" + key).utf8), "\(key.debugDescription) lies at \(real)")
                }
                let delete = try await http.send(
                    ClientRequest(method: "DELETE", url: url, headers: base.headers, timeout: .seconds(10), retry: .never))
                #expect(delete.status == 204)
            }
        }
        // Nothing beside the store: every file under the outer folder is an object or a spool file.
        let strays = Self.files(under: outer).filter {
            !$0.bytesStart(with: "a/b/root/objects/") && !$0.bytesStart(with: "a/b/root/.spool/")
        }
        #expect(strays.isEmpty, "written beside the store: \(strays)")
        let (stored, refused) = counts.value
        #expect(stored > 0 && refused > 0, "the generator made \(stored) stored and \(refused) refused keys")
    }

    /// The keys of the issue and its relatives, on the wire as an attacker sends them.
    @Test func theIssuesClimbingKeysAreRefused() async throws {
        var configuration = try base.configuration(s3: false)
        let outer = FileManager.default.temporaryDirectory.appendingPathComponent("climb-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outer) }
        configuration.root = "\(outer)/x/a/b/root"
        let http = HTTPClient()
        try await buildApplication(configuration: configuration).test(.live) { client in
            for key in HiddenSeparatorKeys.refusedOnTheWire {
                let put = try await http.send(
                    ClientRequest(
                        method: "PUT", url: "http://127.0.0.1:\(try #require(client.port))/v1/artifacts/\(key)",
                        headers: base.headers, body: .bytes(Array("hello".utf8)), timeout: .seconds(10), retry: .never))
                #expect(put.status == 400, "\(key): \(put.status)")
            }
        }
        let files = Self.files(under: outer).filter { !$0.bytesStart(with: "x/a/b/root/") }
        #expect(files.isEmpty, "written outside the store: \(files)")
    }

    /// Symbolic links planted in the filesystem store are neither followed nor served.
    @Test func plantedLinksAreNotFollowed() async throws {
        let configuration = try base.configuration(s3: false)
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(atPath: outside)
            try? FileManager.default.removeItem(atPath: configuration.root)
        }
        try Data("secret".utf8).write(to: URL(fileURLWithPath: "\(outside)/s"))
        let objects = "\(configuration.root)/objects/\(base.prefix)"
        try FileManager.default.createDirectory(atPath: objects, withIntermediateDirectories: true)
        #expect(symlink(outside, "\(objects)/folder") == 0)
        #expect(symlink("\(outside)/s", "\(objects)/file") == 0)
        try await buildApplication(configuration: configuration).test(.router) { client in
            try await client.execute(uri: "/v1/artifacts/\(base.prefix)/folder/new", method: .put, headers: base.auth, body: ByteBuffer(string: "x")) {
                #expect($0.status == .conflict)
            }
            try await client.execute(uri: "/v1/artifacts/\(base.prefix)/file", method: .put, headers: base.auth, body: ByteBuffer(string: "new")) {
                #expect($0.status == .created)
            }
        }
        #expect(!FileManager.default.fileExists(atPath: "\(outside)/new"))
        #expect(try String(contentsOfFile: "\(outside)/s", encoding: .utf8) == "secret", "the link's target was written")
        var info = stat()
        #expect(lstat("\(objects)/file", &info) == 0 && info.st_mode & S_IFMT == S_IFREG, "the link was replaced by the object")
    }
}

extension ArtifactKeyPropertyTests {
    /// Paths (relative to `folder`) of everything under it but folders.
    static func files(under folder: String) -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).filter { path in
            var info = stat()
            return lstat("\(folder)/\(path)", &info) == 0 && info.st_mode & S_IFMT != S_IFDIR
        }
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// How many generated keys were stored and refused (the property runs its cases one at a time).
final class Counts: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = 0
    private var refused = 0

    func add(refused wasRefused: Bool) {
        lock.withLock { if wasRefused { refused += 1 } else { stored += 1 } }
    }

    var value: (stored: Int, refused: Int) { lock.withLock { (stored, refused) } }
}

extension ArtifactServiceTests {
    /// The token as HTTPClient headers, for requests on a real socket.
    var headers: HTTPHeaders { ["Authorization": "Bearer \(Self.token)"] }
}
