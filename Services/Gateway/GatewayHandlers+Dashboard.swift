import Foundation
import GatewayAPI
import OpenAPIRuntime
import Records
import RequestValidation
import ServiceKit
import StageClients

/// The dashboard's pages under `/ui/`, server-rendered from the job records. The browser
/// logs in with an API token, kept in an HttpOnly, SameSite=Strict cookie; the buttons are
/// forms carrying a CSRF token; the live log reads the same events API as every client.
extension GatewayHandlers {
    func dashboardLoginPage(_ input: Operations.DashboardLoginPage.Input) async throws
        -> Operations.DashboardLoginPage.Output
    {
        .ok(.html(Self.loginPage(error: nil)))
    }

    func dashboardLogin(_ input: Operations.DashboardLogin.Input) async throws -> Operations.DashboardLogin.Output {
        guard case .urlEncodedForm(let form)? = input.body, let token = form.token, !token.isEmpty,
            accepted.accepts(Array(token.utf8))
        else {
            return .unauthorized(.html(Self.loginPage(error: "That token is not valid.")))
        }
        return .seeOther(.init(headers: .init(location: "/ui/", setCookie: DashboardSession.cookie(token: token))))
    }

    func dashboardLogout(_ input: Operations.DashboardLogout.Input) async throws -> Operations.DashboardLogout.Output {
        .seeOther(.init(headers: .init(location: "/ui/login", setCookie: DashboardSession.cookie(token: nil))))
    }

    func dashboardJobs(_ input: Operations.DashboardJobs.Input) async throws -> Operations.DashboardJobs.Output {
        func field(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }
        let workload = field(input.query.workload)
        let service = field(input.query.service)
        let state = field(input.query.state).flatMap(JobState.init(rawValue:))
        let jobs = try await store.list(workload: workload, service: service, state: state, limit: 100)
        return .ok(.html(JobListPage(jobs: jobs, workload: workload, service: service, state: state?.rawValue).html))
    }

    func dashboardJob(_ input: Operations.DashboardJob.Input) async throws -> Operations.DashboardJob.Output {
        let job = try await store.job(named: input.path.id)
        let page = JobDetailPage(
            job: job, stages: try await store.stages(of: job.id),
            csrf: DashboardSession.csrfToken(for: DashboardSession.Request.current.token ?? ""),
            delivery: try await deliveries.delivery(startedJob: job.id))
        return .ok(.html(page.html))
    }

    func dashboardCancel(_ input: Operations.DashboardCancel.Input) async throws -> Operations.DashboardCancel.Output {
        try DashboardSession.checkCSRF(
            input.body.flatMap { body -> String? in switch body { case .urlEncodedForm(let form): form.csrf } })
        let job = try await store.job(named: input.path.id)
        _ = try await store.requestCancel(job.id)
        return .seeOther(.init(headers: .init(location: Self.page(of: job))))
    }

    func dashboardRetry(_ input: Operations.DashboardRetry.Input) async throws -> Operations.DashboardRetry.Output {
        try DashboardSession.checkCSRF(
            input.body.flatMap { body -> String? in switch body { case .urlEncodedForm(let form): form.csrf } })
        let job = try await store.job(named: input.path.id)
        // A form cannot give secrets again: a job that had some is retried through the API.
        _ = try await store.retry(job.id, secrets: try secrets.sealForRetry(of: job, given: BuildSecrets()))
        return .seeOther(.init(headers: .init(location: Self.page(of: job))))
    }

    func dashboardArtifact(_ input: Operations.DashboardArtifact.Input) async throws -> Operations.DashboardArtifact.Output {
        let job = try await store.job(named: input.path.id)
        guard let result = job.result.flatMap({ try? JSONNode(parsing: $0) }), let key = result["image"]?["key"]?.string else {
            throw ServiceError.notFound("the job has no artifact")
        }
        // A short-lived URL on the store itself: the bytes do not go through the gateway.
        let url = try await artifacts.presignedURL(for: key, expires: .seconds(600))
        return .seeOther(.init(headers: .init(location: url)))
    }

    func dashboardWorkload(_ input: Operations.DashboardWorkload.Input) async throws -> Operations.DashboardWorkload.Output {
        let workload = input.path.workload
        return .ok(.html(WorkloadPage(workload: workload, jobs: try await store.list(workload: workload, limit: 50)).html))
    }

    private static func page(of job: Job) -> String { "/ui/jobs/\(job.id.uuidString.lowercased())" }

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

extension Components.Responses.Page {
    /// An HTML page, not cached, not framed, its scripts and styles its own.
    static func html(_ text: String) -> Self {
        Self(
            headers: .init(
                cacheControl: "no-store",
                contentSecurityPolicy:
                    "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
                xFrameOptions: "DENY"),
            body: .html(HTTPBody(text)))
    }
}
