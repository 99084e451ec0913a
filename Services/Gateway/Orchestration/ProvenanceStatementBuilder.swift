import BuildAPI
import Digests
import Foundation
import GatewayAPI
import Provenance
import Records
import ServiceKit
import StageClients

/// What build-service recorded beside the image (`<image key>.json`, openapi/build.yaml's
/// `BuildMetadata`): the base images as pulled.
typealias BuildMetadata = BuildAPI.Components.Schemas.BuildMetadata

/// Fills in the in-toto statement of a job from its request, its stages' results and records,
/// and the build's metadata. Secret values are never read: the recorded request holds `***`.
struct ProvenanceStatementBuilder {
    var jobID: UUID
    var request: BuildJobRequest
    var checkout: CheckoutOutcome
    var rewrite: RewriteOutcome
    var build: BuildOutcome
    var push: PushOutcome?
    var reusedFrom: String?
    var stages: [JobStage]
    var metadata: BuildMetadata?
    var driver: String
    var builderID: String

    func statement() -> InTotoStatement {
        var subject = [
            ResourceDescriptor(
                name: build.image.key, digest: ResourceDescriptor.sha256(build.image.sha256),
                mediaType: "application/x-tar")
        ]
        if let push {
            subject.append(
                ResourceDescriptor(
                    name: Self.repository(of: push.reference), digest: ResourceDescriptor.sha256(push.manifestDigest)))
        }
        let external = SLSAProvenance.ExternalParameters(
            workload: request.workload, service: request.service,
            repository: .init(url: request.repository.url, ref: request.repository.ref),
            contextPath: request.contextPath ?? ".", dockerfilePath: request.dockerfilePath ?? "Dockerfile",
            target: request.target, buildArgs: request.buildArgs?.additionalProperties ?? [:],
            secretBuildArgs: request.secretBuildArgs?.additionalProperties.mapValues { _ in Redaction.mask },
            secretFiles: request.secrets.map { $0.additionalProperties.keys.sorted() }, cache: request.cache ?? true,
            mirrors: request.mirrors ?? true, pushDestination: request.push?.destination)
        let decided = SLSAProvenance.InternalParameters(
            commit: checkout.commit, dockerfileDigest: "sha256:" + SHA256.hash(checkout.dockerfile).hex,
            rewrittenDockerfileDigest: "sha256:" + SHA256.hash(rewrite.dockerfile).hex,
            rewrites: rewrite.changes.map { .init(line: $0.line, instruction: $0.instruction, from: $0.from, to: $0.to) },
            driver: driver, reusedFrom: reusedFrom)
        let definition = SLSAProvenance.BuildDefinition(
            externalParameters: external, internalParameters: decided,
            resolvedDependencies: [source] + baseImages)
        var version: [String: String] = [:]
        if let builder = build.builder { version[builder.name] = builder.version }
        let started = stages.compactMap(\.startedAt).min()
        let finished = stages.compactMap(\.finishedAt).max()
        let details = SLSAProvenance.RunDetails(
            builder: .init(id: builderID, version: version.isEmpty ? nil : version),
            metadata: .init(
                invocationID: jobID.uuidString.lowercased(), startedOn: started.map(Self.timestamp),
                finishedOn: finished.map(Self.timestamp)),
            byproducts: stages.sorted { $0.position < $1.position }.map(Self.timing))
        return InTotoStatement(subject: subject, predicate: .init(buildDefinition: definition, runDetails: details))
    }

    private var source: ResourceDescriptor {
        ResourceDescriptor(
            name: "source", uri: "git+\(request.repository.url)@\(request.repository.ref)",
            digest: ["gitCommit": checkout.commit])
    }

    /// Each base image under the proxied name it was pulled as; without a digest when the
    /// builder did not report one (Kaniko on Kubernetes), which the annotation says.
    private var baseImages: [ResourceDescriptor] {
        (metadata?.baseImages ?? []).map { image in
            ResourceDescriptor(
                name: "base-image", uri: "docker://\(image.name)",
                digest: image.digest.map(ResourceDescriptor.sha256) ?? [:],
                annotations: image.digest == nil ? ["digest": "not reported by the builder"] : nil)
        }
    }

    private static func timing(_ stage: JobStage) -> ResourceDescriptor {
        var annotations = ["status": stage.status.rawValue]
        if let started = stage.startedAt { annotations["startedOn"] = timestamp(started) }
        if let finished = stage.finishedAt { annotations["finishedOn"] = timestamp(finished) }
        if let started = stage.startedAt, let finished = stage.finishedAt {
            annotations["durationMs"] = "\(Int64((finished.timeIntervalSince(started) * 1000).rounded()))"
        }
        return ResourceDescriptor(name: "stage/\(stage.name.rawValue)", annotations: annotations)
    }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// `registry/repo` of `registry/repo:tag@sha256:…` (the subject's name; the digest says which).
    static func repository(of reference: String) -> String {
        var name = reference
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
        if let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") { name = String(name[..<colon]) }
        return name
    }
}
