import Foundation
import HTTPTypes
import Hummingbird
import Records
import RequestValidation
import ServiceKit
import StageClients

/// The dashboard's pages under `/ui/`, server-rendered from the job records. The browser
/// logs in with an API token, kept in an HttpOnly, SameSite=Strict cookie; the buttons are
/// forms carrying a CSRF token; the live log reads the same events API as every client.
struct DashboardRoutes: Sendable {
    let store: JobStore
    let secrets: JobSecretsGate
    let accepted: AcceptedTokens
    let artifacts: ArtifactServiceClient
    let deliveries: WebhookDeliveries

    func register(on router: Router<ServiceRequestContext>) {
        router.get("/ui/login") { _, _ in html(Self.loginPage(error: nil)) }
        router.post("/ui/login") { request, context in
            let form = try await DashboardSession.form(request, context: context)
            guard let token = form["token"], !token.isEmpty, accepted.accepts(Array(token.utf8)) else {
                return html(Self.loginPage(error: "That token is not valid."), status: .unauthorized)
            }
            return Response(
                status: .seeOther,
                headers: [.location: "/ui/", .setCookie: DashboardSession.cookie(token: token, secure: DashboardSession.isSecure(request))])
        }
        router.post("/ui/logout") { request, _ in
            Response(
                status: .seeOther,
                headers: [.location: "/ui/login", .setCookie: DashboardSession.cookie(token: nil, secure: DashboardSession.isSecure(request))])
        }
        router.get("/ui/") { request, _ in
            let query = request.uri.queryParameters
            func field(_ name: String) -> String? { query.get(name).map({ String($0) }).flatMap { $0.isEmpty ? nil : $0 } }
            let state = field("state").flatMap(JobState.init(rawValue:))
            let jobs = try await store.list(workload: field("workload"), service: field("service"), state: state, limit: 100)
            return html(JobListPage(jobs: jobs, workload: field("workload"), service: field("service"), state: state?.rawValue).html)
        }
        router.get("/ui/jobs/{id}") { request, context in
            let job = try await store.job(in: context)
            let csrf = DashboardSession.csrfToken(for: DashboardSession.browser.token(in: request) ?? "")
            return html(
                JobDetailPage(
                    job: job, stages: try await store.stages(of: job.id), csrf: csrf,
                    delivery: try await deliveries.delivery(startedJob: job.id)
                ).html)
        }
        router.post("/ui/jobs/{id}/cancel") { request, context in
            try DashboardSession.checkCSRF(try await DashboardSession.form(request, context: context), request: request)
            let job = try await store.job(in: context)
            _ = try await store.requestCancel(job.id)
            return Response(status: .seeOther, headers: [.location: "/ui/jobs/\(job.id.uuidString.lowercased())"])
        }
        router.post("/ui/jobs/{id}/retry") { request, context in
            try DashboardSession.checkCSRF(try await DashboardSession.form(request, context: context), request: request)
            let job = try await store.job(in: context)
            // A form cannot give secrets again: a job that had some is retried through the API.
            _ = try await store.retry(job.id, secrets: try secrets.sealForRetry(of: job, given: nil))
            return Response(status: .seeOther, headers: [.location: "/ui/jobs/\(job.id.uuidString.lowercased())"])
        }
        router.get("/ui/jobs/{id}/artifact") { _, context in
            let job = try await store.job(in: context)
            guard let result = job.result.flatMap({ try? JSONNode(parsing: $0) }), let key = result["image"]?["key"]?.string else {
                throw ServiceError.notFound("the job has no artifact")
            }
            // A short-lived URL on the store itself: the bytes do not go through the gateway.
            let url = try await artifacts.presignedURL(for: key, expires: .seconds(600))
            return Response(status: .seeOther, headers: [.location: url])
        }
        router.get("/ui/workloads/{workload}") { _, context in
            let workload = context.parameters.get("workload") ?? ""
            return html(WorkloadPage(workload: workload, jobs: try await store.list(workload: workload, limit: 50)).html)
        }
    }

    private func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                HTTPField.Name("Content-Security-Policy")!: "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
                HTTPField.Name("X-Frame-Options")!: "DENY",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func loginPage(error: String?) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>log in · buildchain</title></head>
        <body style="font:14px system-ui,sans-serif;margin:48px">
        <h1>buildchain</h1>\(error.map { #"<p id="login-error" style="color:#c62828">\#(escape($0))</p>"# } ?? "")
        <form method="post" action="/ui/login"><label>API token <input type="password" name="token" autocomplete="off"></label>
        <button id="login">Log in</button></form></body></html>
        """
    }
}
