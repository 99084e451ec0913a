import Foundation
import Logging

/// Builds as a Kubernetes Job running Kaniko's executor with the `kaniko` driver's exact
/// arguments (the context unpacked into the pod's workspace by an init container, tarball into
/// the workspace), follows the executor's log into the run, maps the pod's failure to the
/// build's, fetches the tarball, and deletes the Job with its pods (propagation policy
/// Background) whatever the end: success, failure, cancel or timeout. A TTL removes it should
/// the service die first.
public final class KanikoKubernetesDriver: BuildDriver {
    public struct Configuration: Sendable {
        public var job: KanikoJobManifest.Settings
        public var cacheRegistry: String?
        public var registryMirror: String?
        public var insecureRegistries: Set<String>
        /// How often pods and the Job are looked at while the build runs.
        public var pollInterval: Duration

        public init(
            job: KanikoJobManifest.Settings, cacheRegistry: String? = nil, registryMirror: String? = nil,
            insecureRegistries: Set<String> = [], pollInterval: Duration = .seconds(1)
        ) {
            self.job = job
            self.cacheRegistry = cacheRegistry
            self.registryMirror = registryMirror
            self.insecureRegistries = insecureRegistries
            self.pollInterval = pollInterval
        }
    }

    public static let builderName = "kaniko-kubernetes"
    public let configuration: Configuration
    private let api: KubernetesAPI
    private let transfer: any KanikoTransfer
    private let logger: Logger

    public init(
        configuration: Configuration, api: KubernetesAPI, transfer: any KanikoTransfer,
        logger: Logger = Logger(label: "kaniko-kubernetes-driver")
    ) {
        self.configuration = configuration
        self.api = api
        self.transfer = transfer
        self.logger = logger
    }

    /// The Job for `request`, its context from `context` and its tarball going to `uploadURL`.
    public func manifest(
        for request: BuildRequest, name: String, context: KanikoContextSource, uploadURL: String
    ) -> KanikoJobManifest {
        // Bytes, not Characters: a Dockerfile path starting with a combining mark makes "/\u{0301}" one Character.
        let inContext = request.dockerfilePath.utf8.dropFirst(request.contextDirectory.utf8.count)
        let dockerfile = String(decoding: inContext.first == UInt8(ascii: "/") ? inContext.dropFirst() : inContext, as: UTF8.self)
        let registries = DockerfileRegistries.registries(in: request.dockerfileText() ?? "", buildArguments: request.buildArguments)
        let directory = KanikoJobManifest.contextDirectory
        let arguments = KanikoDriver.executorArguments(
            for: request, context: "dir://\(directory)", dockerfile: "\(directory)/\(dockerfile)",
            tarPath: KanikoJobManifest.tarPath, registryMirror: configuration.registryMirror,
            cacheRegistry: configuration.cacheRegistry, insecureRegistries: configuration.insecureRegistries,
            dockerfileRegistries: registries, force: false)
        return KanikoJobManifest(
            name: name, settings: configuration.job, executorArguments: arguments, context: context, uploadURL: uploadURL,
            labels: [
                "app.kubernetes.io/managed-by": "buildchain", "buildchain.io/workload": request.workload,
                "buildchain.io/service": request.service,
            ],
            activeDeadlineSeconds: request.timeout.map { Int($0.components.seconds) })
    }

    public func build(_ request: BuildRequest, onLine: @escaping @Sendable (String) -> Void) async throws -> BuildOutcome {
        try request.validate()
        // Its executor arguments are part of the pod spec the API server stores: no secret goes there.
        guard !request.hasSecrets else { throw BuildRequestError.secretsUnsupported(by: Self.builderName) }
        let started = ContinuousClock.now
        let deadline = request.timeout.map { started + $0 }
        let log = BuildLog(KanikoOutput(), forward: onLine)
        let name = "kaniko-" + UUID().uuidString.lowercased().prefix(18)
        defer {
            if case .text = request.dockerfile { try? removeFileIfPresent(request.dockerfilePath) }
        }
        var created = false
        do {
            try request.prepareDockerfile(builder: Self.builderName)
            let context = try await transfer.stageContext(directory: request.contextDirectory, name: name)
            let uploadURL = try await transfer.outputUploadURL(name: name)
            let manifest = manifest(for: request, name: name, context: context, uploadURL: uploadURL)
            try await api.createJob(manifest.json)
            created = true
            onLine("created Job \(name) in namespace \(configuration.job.namespace)")
            try await within(deadline, log: log, name: name) { try await self.follow(name, log: log) }
            try await transfer.fetchOutput(name: name, to: request.outputPath)
            await finish(name)
            let parser = log.parser
            return BuildOutcome(
                tarballPath: request.outputPath, cachedSteps: parser.cachedSteps, totalSteps: parser.totalSteps,
                builder: BuilderInfo(name: Self.builderName, version: Self.tag(of: configuration.job.kanikoImage)),
                baseImages: parser.pulledImages.map { BaseImage(name: $0, digest: nil) }, exitStatus: 0,
                elapsed: ContinuousClock.now - started)
        } catch {
            try? removeFileIfPresent(request.outputPath)
            if created { await finish(name) }
            if Task.isCancelled || error is CancellationError {
                throw BuildFailure(
                    kind: .cancelled, exitStatus: nil, message: "the build was cancelled; Job \(name) deleted",
                    lastLines: log.lastLines, builder: Self.builderName)
            }
            throw BuildFailure.wrapping(error, lastLines: log.lastLines, builder: Self.builderName)
        }
    }

    /// Follows the context download's and then the executor's log as each container starts,
    /// then waits for the Job to end; a pod that cannot start a container (image pull, missing
    /// Secret) fails the build at once instead of at its deadline.
    private func follow(_ name: String, log: BuildLog<KanikoOutput>) async throws {
        var followed = 0
        let logged = ["fetch-context", "kaniko"]
        while true {
            let job = try await api.job(name)
            let status = job["status"] as? [String: Any] ?? [:]
            let succeeded = (status["succeeded"] as? Int ?? 0) > 0
            let failed = (status["failed"] as? Int ?? 0) > 0 || Self.condition("Failed", in: status)
            let pod = try await api.podsOfJob(name).first
            let podName = (pod?["metadata"] as? [String: Any])?["name"] as? String
            if succeeded || failed {
                // Logs not followed yet (containers that ended between two looks) hold the steps and the error line.
                while followed < logged.count, let podName,
                    (try? await api.followLog(pod: podName, container: logged[followed], onLine: { log.record($0) })) == true
                {
                    followed += 1
                }
                if succeeded { return }
                throw try await failure(name, status: status, log: log)
            }
            if let pod {
                if let stuck = KanikoPodStatus(pod).stuckContainer {
                    throw BuildFailure(
                        kind: .other, exitStatus: nil, message: "the build pod cannot start: \(stuck)",
                        lastLines: log.lastLines, builder: Self.builderName)
                }
                if followed < logged.count, let podName,
                    try await api.followLog(pod: podName, container: logged[followed], onLine: { log.record($0) })
                {
                    followed += 1
                    continue
                }
            }
            try await Task.sleep(for: configuration.pollInterval)
        }
    }

    /// The build's failure from the pod: the context download's or the executor's exit status and
    /// error line, the upload's, or why the pod never ran them (deadline, image pull…).
    private func failure(_ name: String, status: [String: Any], log: BuildLog<KanikoOutput>) async throws -> BuildFailure {
        let pod = KanikoPodStatus((try? await api.podsOfJob(name).first) ?? [:])
        if let exitStatus = pod.exitStatus(of: "fetch-context"), exitStatus != 0 {
            let reason = log.lastLines.last { $0.hasPrefix("curl:") || $0.hasPrefix("tar:") } ?? "exit status \(exitStatus)"
            return BuildFailure(
                kind: .contextInvalid, exitStatus: exitStatus, message: "the build pod could not fetch the context: \(reason)",
                lastLines: log.lastLines, builder: Self.builderName)
        }
        if let exitStatus = pod.exitStatus(of: "kaniko"), exitStatus != 0 {
            return log.failure(
                exitStatus: exitStatus, otherwise: "the executor exited with status \(exitStatus)", builder: Self.builderName)
        }
        if let exitStatus = pod.exitStatus(of: "upload"), exitStatus != 0 {
            return BuildFailure(
                kind: .other, exitStatus: exitStatus, message: "the build pod could not upload the image (curl exit \(exitStatus))",
                lastLines: log.lastLines, builder: Self.builderName)
        }
        let reason = Self.conditionMessage("Failed", in: status) ?? "Job \(name) failed"
        let kind: BuildFailure.Kind = reason.contains("DeadlineExceeded") ? .timedOut : .other
        return BuildFailure(kind: kind, exitStatus: nil, message: reason, lastLines: log.lastLines, builder: Self.builderName)
    }

    /// Runs `body`, cut short with a `.timedOut` failure at `deadline` (the log can be followed
    /// for as long as the executor runs).
    private func within(
        _ deadline: ContinuousClock.Instant?, log: BuildLog<KanikoOutput>, name: String,
        _ body: @escaping @Sendable () async throws -> Void
    ) async throws {
        guard let deadline else { return try await body() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(until: deadline)
                throw BuildFailure(
                    kind: .timedOut, exitStatus: nil, message: "the build ran past its timeout; Job \(name) deleted",
                    lastLines: log.lastLines, builder: Self.builderName)
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Deletes the Job and the files in transit, whatever state the caller's task is in.
    private func finish(_ name: String) async {
        await Task { [api, transfer, logger] in
            do {
                try await api.deleteJob(name)
            } catch {
                logger.warning("could not delete Job \(name); its TTL will", metadata: ["error": "\(error)"])
            }
            await transfer.cleanUp(name: name)
        }.value
    }

    private static func condition(_ type: String, in status: [String: Any]) -> Bool {
        (status["conditions"] as? [[String: Any]] ?? []).contains { $0["type"] as? String == type && $0["status"] as? String == "True" }
    }

    private static func conditionMessage(_ type: String, in status: [String: Any]) -> String? {
        guard let condition = (status["conditions"] as? [[String: Any]] ?? []).first(where: { $0["type"] as? String == type })
        else { return nil }
        return [condition["reason"] as? String, condition["message"] as? String].compactMap { $0 }.joined(separator: ": ")
    }

    /// `gcr.io/kaniko-project/executor:v1.23.2` → `v1.23.2`.
    static func tag(of image: String) -> String {
        let last = image.split(separator: "/").last.map(String.init) ?? image
        return last.split(separator: ":", maxSplits: 1).dropFirst().first.map(String.init) ?? "latest"
    }
}
