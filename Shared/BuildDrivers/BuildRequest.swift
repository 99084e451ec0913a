import Foundation
import OCI
import PathBytes

/// One image build: an unpacked context, the Dockerfile to build it with, and
/// where the image tarball goes. The same request means the same command line
/// for every driver (see `KanikoDriver.arguments(for:)`, `BuildahDriver.budArguments(for:run:)`).
public struct BuildRequest: Sendable, Equatable {
    /// Where the Dockerfile comes from.
    public enum Dockerfile: Sendable, Equatable {
        /// A path relative to the context directory; it must stay inside the context.
        case path(String)
        /// Dockerfile text, written into the context as `BuildRequest.writtenDockerfileName`.
        case text(String)
    }

    /// The unpacked build context (see `SafeTarExtractor`).
    public var contextDirectory: String
    public var dockerfile: Dockerfile
    /// The stage to stop at (`--target`); nil builds the last stage.
    public var target: String?
    /// `--build-arg` values, passed sorted by name.
    public var buildArguments: [String: String]
    /// Build arguments whose values are secret: they reach the builder and nothing else
    /// (each driver says how, see `BuildahDriver.budArguments(for:run:)`).
    public var secretBuildArguments: [String: String] = [:]
    /// Secret files by id, for `RUN --mount=type=secret,id=<id>`: their contents.
    public var secretFiles: [String: String] = [:]
    /// Workload and service name the per-service cache repository is named after:
    /// `<cache registry>/kaniko-cache/<workload>-<service>`.
    public var workload: String
    public var service: String
    /// Layer cache in the per-service cache repository.
    public var cache: Bool
    /// Docker Hub names pulled through the configured mirror.
    public var mirrors: Bool
    /// The image name written into the tarball's `RepoTags`, e.g. `<registry>/<workload>/<service>:<tag>`.
    public var destination: String
    /// Where the docker-archive tarball is written (replaced if it exists). No `:` in it.
    public var outputPath: String
    /// The whole build (pull, steps, tarball) is stopped when it runs longer.
    public var timeout: Duration?

    public init(
        contextDirectory: String, dockerfile: Dockerfile = .path("Dockerfile"), target: String? = nil,
        buildArguments: [String: String] = [:], workload: String, service: String, cache: Bool = true,
        mirrors: Bool = true, destination: String, outputPath: String, timeout: Duration? = nil
    ) {
        self.contextDirectory = contextDirectory
        self.dockerfile = dockerfile
        self.target = target
        self.buildArguments = buildArguments
        self.workload = workload
        self.service = service
        self.cache = cache
        self.mirrors = mirrors
        self.destination = destination
        self.outputPath = outputPath
        self.timeout = timeout
    }

    /// The file name Dockerfile text is written to, inside the context directory.
    public static let writtenDockerfileName = ".buildchain.Dockerfile"

    /// `<registry>/kaniko-cache/<workload>-<service>`: the cache repository the
    /// original chain used for Kaniko, and the one buildah's `--cache-to/--cache-from` use.
    public func cacheRepository(in registry: String) -> String {
        "\(registry)/kaniko-cache/\(workload)-\(service)"
    }

    /// Build arguments as `K=V`, sorted by name.
    var sortedBuildArguments: [String] {
        buildArguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }

    /// The absolute path of the Dockerfile the builder reads (before it is written, for `.text`).
    var dockerfilePath: String {
        switch dockerfile {
        case .path(let path): Self.join(contextDirectory, path)
        case .text: Self.join(contextDirectory, Self.writtenDockerfileName)
        }
    }

    static func join(_ directory: String, _ path: String) -> String {
        directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }
}

/// A request that cannot be built as given (a caller's mistake, found before anything runs).
public struct BuildRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request field at fault: `destination`, `workload`, `dockerfile`…
    public let field: String
    public let reason: String

    public var description: String { "invalid build request: \(field): \(reason)" }

    /// Kaniko has no `RUN --mount=type=secret`.
    public static func secretFilesUnsupported(by builder: String) -> BuildRequestError {
        BuildRequestError(field: "secretFiles", reason: "\(builder) cannot mount secret files (RUN --mount=type=secret)")
    }

    /// The Kubernetes driver would write them into the pod spec.
    public static func secretsUnsupported(by builder: String) -> BuildRequestError {
        BuildRequestError(
            field: "secretBuildArguments", reason: "\(builder) takes no secrets: they would be stored in the pod spec")
    }
}

extension BuildRequest {
    /// Checks what every driver relies on (drivers call it first; callers may call it earlier
    /// to reject a request before queueing it); throws naming the field at fault. A Dockerfile
    /// path must stay inside the context, symbolic links resolved; that it exists is checked
    /// when the build starts (`.dockerfileInvalid`), since the context may not be unpacked yet.
    public func validate() throws(BuildRequestError) {
        var isDirectory: ObjCBool = false
        guard contextDirectory.bytesStart(with: "/"),
            FileManager.default.fileExists(atPath: contextDirectory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw BuildRequestError(
                field: "contextDirectory", reason: "\(contextDirectory) is not an absolute path of a directory")
        }
        let reference: OCIReference
        do throws(OCIReferenceError) {
            reference = try OCIReference(parsing: destination)
        } catch {
            throw BuildRequestError(field: "destination", reason: error.description)
        }
        guard reference.digest == nil else {
            throw BuildRequestError(field: "destination", reason: "a tag, not a digest, names the image")
        }
        for (field, value) in [("workload", workload), ("service", service)] {
            guard !value.isEmpty,
                value.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || "-_.".contains($0)) }),
                let first = value.first, first.isLowercase || first.isNumber
            else {
                throw BuildRequestError(
                    field: field,
                    reason:
                        "\"\(value)\" must be lowercase letters, digits, '-', '_' or '.' (it names the cache repository)"
                )
            }
        }
        guard (try? OCIReference(parsing: cacheRepository(in: "registry.invalid"))) != nil else {
            throw BuildRequestError(field: "workload", reason: "\(workload)-\(service) is not a valid repository name")
        }
        if let target {
            guard !target.isEmpty, !target.bytesStart(with: "-"), !target.unicodeScalars.contains(where: \.properties.isWhitespace) else {
                throw BuildRequestError(field: "target", reason: "\"\(target)\" is not a stage name")
            }
        }
        for name in buildArguments.keys {
            guard !name.isEmpty, !name.containsByte("="), !name.unicodeScalars.contains(where: \.properties.isWhitespace) else {
                throw BuildRequestError(field: "buildArguments", reason: "\"\(name)\" is not an argument name")
            }
        }
        if let secretNamesProblem { throw secretNamesProblem }
        guard outputPath.bytesStart(with: "/"), !outputPath.containsByte(":"), !outputPath.bytesEnd(with: "/") else {
            throw BuildRequestError(
                field: "outputPath",
                reason: "\(outputPath) must be an absolute file path without ':' (docker-archive syntax)")
        }
        if case .path(let path) = dockerfile {
            guard !path.isEmpty, !path.bytesStart(with: "/"), !path.hasDotDotSegment else {
                throw BuildRequestError(
                    field: "dockerfile", reason: "\(path) must be a relative path inside the context")
            }
            let context = URL(fileURLWithPath: contextDirectory).resolvingSymlinksInPath().path
            let resolved = URL(fileURLWithPath: dockerfilePath).resolvingSymlinksInPath().path
            guard resolved.bytesStart(with: context.bytesEnd(with: "/") ? context : context + "/") else {
                throw BuildRequestError(field: "dockerfile", reason: "\(path) leads outside the context")
            }
        }
    }

    /// What is wrong with the names of the secret build args or the ids of the secret files, if anything.
    public var secretNamesProblem: BuildRequestError? {
        for name in secretBuildArguments.keys.sorted() {
            guard Self.isSecretName(name, first: { $0 == 0x5F || Self.isLetter($0) }), buildArguments[name] == nil else {
                return BuildRequestError(
                    field: "secretBuildArguments",
                    reason: "\"\(name)\" must be a name of letters, digits and _, not also a plain build argument")
            }
        }
        for id in secretFiles.keys.sorted() where !Self.isSecretName(id, first: { Self.isLetter($0) || (48...57).contains($0) }) {
            return BuildRequestError(field: "secretFiles", reason: "\"\(id)\" must be an id of letters, digits, '.', '_' or '-'")
        }
        return nil
    }

    /// Whether the request carries secrets of any kind.
    public var hasSecrets: Bool { !secretBuildArguments.isEmpty || !secretFiles.isEmpty }

    /// At most 128 bytes of `[A-Za-z0-9_]` (`.` and `-` too when `first` allows a digit: secret
    /// ids), starting with a byte `first` accepts.
    static func isSecretName(_ name: String, first: (UInt8) -> Bool) -> Bool {
        let idLike = first(UInt8(ascii: "0"))
        guard let head = name.utf8.first, first(head), name.utf8.count <= 128 else { return false }
        return name.utf8.allSatisfy { b in
            isLetter(b) || (48...57).contains(b) || b == 0x5F || (idLike && (b == 0x2E || b == 0x2D))
        }
    }

    static func isLetter(_ byte: UInt8) -> Bool { (65...90).contains(byte) || (97...122).contains(byte) }

    /// Writes `.text` Dockerfiles into the context; checks `.path` ones exist.
    func prepareDockerfile(builder: String) throws {
        switch dockerfile {
        case .text(let text):
            try Data(text.utf8).write(to: URL(fileURLWithPath: dockerfilePath))
        case .path(let path):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dockerfilePath, isDirectory: &isDirectory),
                !isDirectory.boolValue
            else {
                throw BuildFailure(
                    kind: .dockerfileInvalid, exitStatus: nil, message: "no Dockerfile at \(path) in the context",
                    lastLines: [], builder: builder)
            }
        }
    }

    /// The Dockerfile text, for finding the registries it pulls from (nil when unreadable).
    func dockerfileText() -> String? {
        switch dockerfile {
        case .text(let text): text
        case .path: try? String(contentsOfFile: dockerfilePath, encoding: .utf8)
        }
    }
}
