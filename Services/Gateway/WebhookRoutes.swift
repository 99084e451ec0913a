import Foundation
import HTTPTypes
import Hummingbird
import Records
import ServiceKit

/// `POST /v1/webhooks/github`: a GitHub push to a configured repository and ref starts the
/// builds its trigger maps it to. Authenticated by the `X-Hub-Signature-256` HMAC, not by a
/// bearer token; a delivery id seen before starts nothing.
struct WebhookRoutes: Sendable {
    static let githubPath = "/v1/webhooks/github"

    let settings: GitHubWebhookSettings?
    let deliveries: WebhookDeliveries
    let submission: JobSubmission

    struct Answer: Codable, Sendable {
        var delivery: String
        var event: String
        var jobs: [String]
        var duplicate: Bool
        /// Why the delivery started nothing (a ping, another event, a ref no pattern matches).
        var ignored: String?
    }

    func register(on router: Router<ServiceRequestContext>) {
        router.post(RouterPath(Self.githubPath)) { request, context in
            guard let settings else {
                throw ServiceError.notFound("this gateway has no GitHub webhook configured", code: "WEBHOOK_NOT_CONFIGURED")
            }
            let body = Array(try await request.collectBody(limitedBy: context).readableBytesView)
            guard GitHubSignature.isValid(request.headers[Self.signature], body: body, secret: settings.secret) else {
                throw ServiceError(.unauthorized, code: "BAD_SIGNATURE", detail: "X-Hub-Signature-256 does not match the body")
            }
            guard let delivery = request.headers[Self.delivery], !delivery.isEmpty, delivery.utf8.count <= 128,
                let event = request.headers[Self.event], !event.isEmpty
            else {
                throw ServiceError.badRequest("X-GitHub-Delivery and X-GitHub-Event are required", code: "INVALID_DELIVERY")
            }
            switch event {
            case "push":
                return try await push(body, delivery: delivery, settings: settings)
            case "ping":
                return try JSONResponse(Answer(delivery: delivery, event: event, jobs: [], duplicate: false, ignored: "ping"))
                    .response(status: .ok)
            default:
                return try JSONResponse(
                    Answer(delivery: delivery, event: event, jobs: [], duplicate: false, ignored: "only push events start builds")
                ).response(status: .ok)
            }
        }
    }

    private func push(_ body: [UInt8], delivery: String, settings: GitHubWebhookSettings) async throws -> Response {
        let push: GitHubPushEvent
        do {
            push = try JSONDecoder().decode(GitHubPushEvent.self, from: Data(body))
        } catch {
            throw ServiceError.badRequest("the push payload lacks ref, after or repository", code: "INVALID_PAYLOAD")
        }
        guard let trigger = settings.triggers.trigger(for: push.repository.fullName) else {
            throw ServiceError(
                .unprocessableContent, code: "UNKNOWN_REPOSITORY",
                detail: "no trigger is configured for repository \(push.repository.fullName)")
        }
        func answer(_ jobs: [UUID], duplicate: Bool = false, ignored: String? = nil, status: HTTPResponse.Status = .ok) throws
            -> Response
        {
            try JSONResponse(
                Answer(
                    delivery: delivery, event: "push", jobs: jobs.map { $0.uuidString.lowercased() }, duplicate: duplicate,
                    ignored: ignored)
            ).response(status: status)
        }
        if push.deleted == true || push.after.allSatisfy({ $0 == "0" }) { return try answer([], ignored: "the ref was deleted") }
        guard trigger.matches(ref: push.ref) else { return try answer([], ignored: "no pattern matches \(push.ref)") }
        guard RefShape.isFullSHA(push.after) else {
            throw ServiceError.badRequest("after must be a full commit id", code: "INVALID_PAYLOAD")
        }
        let requests = trigger.requests(ref: push.ref, commit: push.after, cloneURL: push.repository.cloneURL)
        // All or none: a mapping that makes an invalid request starts no build of the push.
        for request in requests { try JobSubmission.validate(request) }
        guard
            try await deliveries.claim(
                delivery, source: "github", event: "push", repository: push.repository.fullName, ref: push.ref,
                commit: push.after)
        else {
            return try answer(try await deliveries.jobs(of: delivery), duplicate: true)
        }
        var started: [UUID] = []
        do {
            for request in requests { started.append(try await submission.submit(request).job.id) }
            try await deliveries.attach(started, to: delivery)
        } catch {
            if started.isEmpty { try? await deliveries.release(delivery) } else { try? await deliveries.attach(started, to: delivery) }
            throw error
        }
        return try answer(started, status: .accepted)
    }

    static let signature = HTTPField.Name("X-Hub-Signature-256")!
    static let delivery = HTTPField.Name("X-GitHub-Delivery")!
    static let event = HTTPField.Name("X-GitHub-Event")!
}

enum RefShape {
    static func isFullSHA(_ text: String) -> Bool {
        (text.utf8.count == 40 || text.utf8.count == 64) && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
