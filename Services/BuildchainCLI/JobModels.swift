import Foundation

// The gateway's job resources as the CLI reads them. Decoding ignores fields it does not know
// and takes missing ones as absent, so a newer gateway does not break an older CLI.

/// A build job: its state, its stages and, once it succeeded, its image.
struct Job: Decodable, Sendable {
    var id: String
    var workload: String
    var service: String
    var state: String
    var attempt: Int
    var request: JobRequest?
    var createdAt: Date?
    var startedAt: Date?
    var finishedAt: Date?
    var durationMilliseconds: Int64?
    var error: JobFailure?
    var reusedFrom: String?
    var result: JobResult?
    var stages: [JobStage]

    var hasEnded: Bool { ["succeeded", "failed", "cancelled"].contains(state) }
    var succeeded: Bool { state == "succeeded" }

    /// The stage running now, if any.
    var runningStage: JobStage? { stages.first { $0.status == "running" } }

    enum CodingKeys: String, CodingKey {
        case id, workload, service, state, attempt, request, error, result, stages
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case durationMilliseconds = "duration_ms"
        case reusedFrom = "reused_from"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        state = try container.decode(String.self, forKey: .state)
        workload = try container.decodeIfPresent(String.self, forKey: .workload) ?? ""
        service = try container.decodeIfPresent(String.self, forKey: .service) ?? ""
        attempt = try container.decodeIfPresent(Int.self, forKey: .attempt) ?? 1
        request = try? container.decodeIfPresent(JobRequest.self, forKey: .request)
        createdAt = try container.decodeIfPresent(Date.self, forKey: .createdAt)
        startedAt = try container.decodeIfPresent(Date.self, forKey: .startedAt)
        finishedAt = try container.decodeIfPresent(Date.self, forKey: .finishedAt)
        durationMilliseconds = try container.decodeIfPresent(Int64.self, forKey: .durationMilliseconds)
        error = try container.decodeIfPresent(JobFailure.self, forKey: .error)
        reusedFrom = try container.decodeIfPresent(String.self, forKey: .reusedFrom)
        result = try container.decodeIfPresent(JobResult.self, forKey: .result)
        stages = try container.decodeIfPresent([JobStage].self, forKey: .stages) ?? []
    }
}

/// The request a job was submitted with, as the gateway echoes it (secrets redacted).
struct JobRequest: Decodable, Sendable {
    struct Repository: Decodable, Sendable {
        var url: String?
        var ref: String?
    }

    struct Push: Decodable, Sendable {
        var destination: String?
    }

    var repository: Repository?
    var contextPath: String?
    var dockerfilePath: String?
    var target: String?
    var push: Push?

    enum CodingKeys: String, CodingKey {
        case repository, target, push
        case contextPath = "context_path"
        case dockerfilePath = "dockerfile_path"
    }
}

/// Why a job or a stage failed.
struct JobFailure: Decodable, Sendable {
    var code: String
    var message: String
    var retryable: Bool?
    var stage: String?

    enum CodingKeys: String, CodingKey {
        case code, message, retryable, stage
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        code = try container.decodeIfPresent(String.self, forKey: .code) ?? "UNKNOWN"
        message = try container.decodeIfPresent(String.self, forKey: .message) ?? ""
        retryable = try container.decodeIfPresent(Bool.self, forKey: .retryable)
        stage = try container.decodeIfPresent(String.self, forKey: .stage)
    }
}

/// What a succeeded job produced: the commit built, the stored image and, when pushed, where.
struct JobResult: Decodable, Sendable {
    var commit: String?
    var image: ImageArtifact?
    var manifestDigest: String?
    var reference: String?

    enum CodingKeys: String, CodingKey {
        case commit, image, reference
        case manifestDigest = "manifest_digest"
    }
}

/// The image archive in the artifact store.
struct ImageArtifact: Decodable, Sendable {
    var key: String
    var size: Int64?
    var sha256: String?
}

/// One stage of a job (checkout, rewrite, build, push).
struct JobStage: Decodable, Sendable {
    var name: String
    var status: String
    var attempt: Int?
    var runID: String?
    var startedAt: Date?
    var finishedAt: Date?
    var durationMilliseconds: Int64?
    var error: JobFailure?

    enum CodingKeys: String, CodingKey {
        case name, status, attempt, error
        case runID = "run_id"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case durationMilliseconds = "duration_ms"
    }
}

/// A page of `GET /v1/jobs`.
struct JobPage: Decodable, Sendable {
    var jobs: [Job]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case jobs
        case nextCursor = "next_cursor"
    }
}

/// One line of a job's event stream: a log line of a stage, or a state change of the job
/// (`stage` nil, the job's state in `message`) or of a stage (the stage's status).
struct JobEvent: Decodable, Sendable {
    var seq: Int64
    var at: Date?
    var kind: String
    var stage: String?
    var stream: String?
    var message: String

    var isStateChange: Bool { kind == "state" }

    enum CodingKeys: String, CodingKey {
        case seq, at, kind, stage, stream, message
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        seq = try container.decode(Int64.self, forKey: .seq)
        at = try container.decodeIfPresent(Date.self, forKey: .at)
        kind = try container.decodeIfPresent(String.self, forKey: .kind) ?? "log"
        stage = try container.decodeIfPresent(String.self, forKey: .stage)
        stream = try container.decodeIfPresent(String.self, forKey: .stream)
        message = try container.decodeIfPresent(String.self, forKey: .message) ?? ""
    }
}
