import Foundation
import GatewayAPI
import HTTPTypes
import OpenAPIRuntime
import Records
import ServiceKit

/// `POST /v1/webhooks/github`: a GitHub push to a configured repository and ref starts the
/// builds its trigger maps it to. `GitHubSignatureGate` has checked the delivery's signature over
/// the raw body before it got here; a delivery id seen before starts nothing.
extension GatewayHandlers {
    static let githubWebhookPath = "/v1/webhooks/github"

    func githubWebhook(_ input: Operations.GithubWebhook.Input) async throws -> Operations.GithubWebhook.Output {
        guard let webhook else { throw GitHubSignatureGate.notConfigured }
        let delivery = input.headers.xGitHubDelivery
        let event = input.headers.xGitHubEvent
        guard !delivery.isEmpty, delivery.utf8.count <= 128, !event.isEmpty else {
            throw ServiceError.badRequest("X-GitHub-Delivery and X-GitHub-Event are required", code: "INVALID_DELIVERY")
        }
        switch (event, input.body) {
        case ("push", .json(let payload)):
            return try await push(payload, delivery: delivery, settings: webhook)
        case ("ping", _):
            return .ok(.init(body: .json(.init(delivery: delivery, event: event, jobs: [], duplicate: false, ignored: "ping"))))
        default:
            return .ok(
                .init(
                    body: .json(
                        .init(
                            delivery: delivery, event: event, jobs: [], duplicate: false,
                            ignored: "only push events start builds"))))
        }
    }

    private func push(_ payload: OpenAPIObjectContainer, delivery: String, settings: GitHubWebhookSettings) async throws
        -> Operations.GithubWebhook.Output
    {
        guard let push = GitHubPushEvent(payload: payload.value) else {
            throw ServiceError.badRequest("the push payload lacks ref, after or repository", code: "INVALID_PAYLOAD")
        }
        guard let trigger = settings.triggers.trigger(for: push.repository.fullName) else {
            throw ServiceError(
                .unprocessableContent, code: "UNKNOWN_REPOSITORY",
                detail: "no trigger is configured for repository \(push.repository.fullName)")
        }
        func answer(_ jobs: [UUID], duplicate: Bool = false, ignored: String? = nil) -> Components.Schemas.WebhookAnswer {
            .init(
                delivery: delivery, event: "push", jobs: jobs.map { $0.uuidString.lowercased() }, duplicate: duplicate,
                ignored: ignored)
        }
        if push.deleted == true || push.after.allSatisfy({ $0 == "0" }) {
            return .ok(.init(body: .json(answer([], ignored: "the ref was deleted"))))
        }
        guard trigger.matches(ref: push.ref) else {
            return .ok(.init(body: .json(answer([], ignored: "no pattern matches \(push.ref)"))))
        }
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
            return .ok(.init(body: .json(answer(try await deliveries.jobs(of: delivery), duplicate: true))))
        }
        var started: [UUID] = []
        do {
            for request in requests { started.append(try await submission.submit(request).created.job.id) }
            try await deliveries.attach(started, to: delivery)
        } catch {
            if started.isEmpty { try? await deliveries.release(delivery) } else { try? await deliveries.attach(started, to: delivery) }
            throw error
        }
        return .accepted(.init(body: .json(answer(started))))
    }
}

enum RefShape {
    static func isFullSHA(_ text: String) -> Bool {
        (text.utf8.count == 40 || text.utf8.count == 64) && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
