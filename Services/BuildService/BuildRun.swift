import BuildAPI
import BuildDrivers
import Foundation
import OCI
import ServiceKit
import StageClients
import StageRuns

/// One build: fetch and unpack the context, build, store the tarball and
/// its metadata document, remove everything local.
struct BuildRun: Sendable {
    let body: BuildBody
    /// The service's settings, drivers and artifact client.
    let service: BuildHandlers
    let log: RunLog

    func perform() async throws -> Components.Schemas.BuildResult {
        let name = (body.commit ?? body.jobID?.uuidString ?? log.runID.uuidString).lowercased()
        let folder = "\(service.configuration.workDirectory)/build-\(log.runID.uuidString.lowercased())"
        try FileManager.default.createDirectory(atPath: "\(folder)/context", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        let fetchStarted = ContinuousClock.now
        await log.line("fetching context \(body.contextKey)")
        try await service.artifacts.download(body.contextKey, to: "\(folder)/context.tar.gz")
        do {
            _ = try await SafeTarExtractor().extract(archive: "\(folder)/context.tar.gz", into: "\(folder)/context")
        } catch {
            throw RunFailure(code: "CONTEXT_INVALID", message: "the build context was refused: \(error)", retryable: false)
        }
        let fetch = ContinuousClock.now - fetchStarted

        let destination = body.destination ?? "buildchain.local/\(body.workload)/\(body.service):\(name.prefix(12))"
        var request = BuildRequest(
            contextDirectory: "\(folder)/context",
            dockerfile: body.dockerfile.map { .text($0) } ?? .path(body.dockerfilePath ?? "Dockerfile"),
            target: body.target, buildArguments: body.buildArgMap, workload: body.workload, service: body.service,
            cache: body.cache ?? true, mirrors: body.mirrors ?? true, destination: destination,
            outputPath: "\(folder)/image.tar", timeout: service.configuration.timeout)
        request.secretBuildArguments = body.secretBuildArgMap
        request.secretFiles = body.secretFileMap
        let buildStarted = ContinuousClock.now
        let built = try await build(request)
        let buildTime = ContinuousClock.now - buildStarted

        let archive = try await DockerArchive.open(path: built.tarballPath)
        let imageKey = body.imageKey ?? "images/\(body.workload)/\(body.service)/\(name).tar"
        let uploadStarted = ContinuousClock.now
        await log.line("uploading the image (\(archive.layers.count) layers) to \(imageKey)")
        let image = try await service.artifacts.upload(
            file: built.tarballPath, as: imageKey, contentType: "application/x-tar", jobID: body.jobID)
        let upload = ContinuousClock.now - uploadStarted
        let timings = ["fetch": fetch.wholeMilliseconds, "build": buildTime.wholeMilliseconds, "upload": upload.wholeMilliseconds]
        let metadata = Components.Schemas.BuildMetadata(
            configDigest: archive.config.digest, layers: archive.layers.map { .init(digest: $0.digest, size: $0.size) },
            baseImages: built.baseImages.map { .init(name: $0.name, digest: $0.digest) }, sourceCommit: body.commit,
            builder: .init(name: built.builder.name, version: built.builder.version), cachedSteps: built.cachedSteps,
            builtSteps: built.totalSteps - built.cachedSteps, timingsMs: .init(additionalProperties: timings))
        let metadataPath = "\(folder)/metadata.json"
        try JSONResponse<Components.Schemas.BuildMetadata>.encoder.encode(metadata).write(to: URL(fileURLWithPath: metadataPath))
        let metadataRef = try await service.artifacts.upload(
            file: metadataPath, as: imageKey + ".json", contentType: "application/json", jobID: body.jobID)
        return .init(
            image: .init(key: image.key, size: image.size, sha256: image.sha256), metadataKey: metadataRef.key,
            configDigest: archive.config.digest, layerCount: archive.layers.count, cachedSteps: built.cachedSteps,
            totalSteps: built.totalSteps, builder: .init(name: built.builder.name, version: built.builder.version),
            destination: destination,
            timingsMs: .init(
                fetch: fetch.wholeMilliseconds, build: buildTime.wholeMilliseconds, upload: upload.wholeMilliseconds,
                total: (fetch + buildTime + upload).wholeMilliseconds))
    }

    private func build(_ request: BuildRequest) async throws -> BuildOutcome {
        let driver = try service.drivers.driver(body.driverChoice ?? service.configuration.driver)
        let (lines, sink) = AsyncStream<String>.makeStream()
        let recorder = Task { for await line in lines { await log.line(line, stream: "builder") } }
        defer { recorder.cancel() }
        do {
            let outcome = try await driver.build(request) { sink.yield($0) }
            sink.finish()
            await recorder.value
            return outcome
        } catch let failure as BuildFailure {
            sink.finish()
            await recorder.value
            throw Self.runFailure(failure)
        } catch let error as BuildRequestError {
            sink.finish()
            throw RunFailure(code: "INVALID_BUILD", message: error.description, retryable: false)
        }
    }

    static func runFailure(_ failure: BuildFailure) -> RunFailure {
        let tail = failure.lastLines.suffix(20).joined(separator: "\n")
        // Whatever step met it, a full disk is the service's trouble, not the Dockerfile's.
        if "\(failure.message)\n\(tail)".lowercased().contains("no space left on device") {
            return RunFailure(
                code: "NO_SPACE", message: "no space left on device in the build folder\n\(tail)", retryable: true)
        }
        let code: String =
            switch failure.kind {
            case .stepFailed: "BUILD_STEP_FAILED"
            case .dockerfileInvalid: "DOCKERFILE_INVALID"
            case .baseImageNotFound: "BASE_IMAGE_NOT_FOUND"
            case .registryUnreachable: "REGISTRY_UNREACHABLE"
            case .contextInvalid: "CONTEXT_INVALID"
            case .timedOut: "TIMEOUT"
            case .cancelled: "CANCELLED"
            case .other: "BUILD_FAILED"
            }
        // The builder's error line first (with a failing step's exit status), then its last lines.
        var headline = failure.message
        if failure.kind == .stepFailed, let status = failure.exitStatus, !headline.contains("exit status \(status)") {
            headline += " (exit status \(status))"
        }
        return RunFailure(
            code: code, message: tail.isEmpty ? headline : "\(headline)\n\(tail)",
            retryable: [.timedOut, .other, .registryUnreachable].contains(failure.kind))
    }
}
