import Foundation

/// The bad inputs of `BadInputTests`, by kind, each with the answer it must get.
enum BadInputCatalogue {
    typealias Expected = BadInput.Expected

    static var buildBody: [String: Any] { ["workload": "w", "service": "s", "repository": ["url": "{repo}", "ref": "main"]] }
    static var checkoutBody: [String: Any] { ["repository": "{repo}", "ref": "main"] }
    static var stageBuildBody: [String: Any] { ["context_key": "contexts/none.tar", "workload": "w", "service": "s"] }

    static func with(_ base: [String: Any], _ changes: [String: Any]) -> String {
        jsonText(base.merging(changes) { $1 })
    }

    static func gateway(_ input: String, _ changes: [String: Any], _ expected: Expected) -> BadInput {
        BadInput(input: input, service: "gateway", path: "/v1/builds", json: with(buildBody, changes), expected: expected)
    }

    static func checkout(_ input: String, _ changes: [String: Any], _ expected: Expected) -> BadInput {
        BadInput(
            input: input, service: "checkout-service", path: "/v1/checkouts", json: with(checkoutBody, changes), expected: expected)
    }

    static func build(_ input: String, _ changes: [String: Any], _ expected: Expected) -> BadInput {
        BadInput(input: input, service: "build-service", path: "/v1/builds", json: with(stageBuildBody, changes), expected: expected)
    }

    static func artifact(_ input: String, _ method: String, _ path: String, json: [String: Any]? = nil, _ expected: Expected)
        -> BadInput
    {
        BadInput(input: input, service: "artifact-service", method: method, path: path, json: json.map(jsonText), expected: expected)
    }

    // MARK: path traversal

    static var traversals: [BadInput] {
        var cases: [BadInput] = []
        let refusedPaths: [(String, String)] = [
            ("context_path", "../../etc"), ("context_path", "/etc"), ("context_path", "sub/../../.."),
            ("dockerfile_path", "../../etc/passwd"), ("dockerfile_path", "/etc/passwd"),
            // Separators hidden from a Character check by a prepended (U+0600, U+08E2) or combining (U+0301) mark.
            ("context_path", "\u{0600}/../../etc"), ("context_path", "sub/..\u{0301}/../../.."),
            ("dockerfile_path", "\u{08E2}/../../etc/passwd"), ("dockerfile_path", "/\u{0301}etc/passwd"),
        ]
        for (field, path) in refusedPaths {
            cases.append(gateway("\(field) \(path)", [field: path], .refused(400, code: "INVALID_BUILD")))
            cases.append(checkout("\(field) \(path)", [field: path], .refused(400, code: "INVALID_CHECKOUT")))
        }
        // Not traversal once taken literally (no decoding, "\" is a name character), or a link
        // inside the repository that leads out of it: the checkout finds no such path, or refuses it.
        let literalPaths: [(String, String, String)] = [
            ("context_path", "..%2F..%2Fetc", "PATH_NOT_FOUND"), ("context_path", #"..\..\etc"#, "PATH_NOT_FOUND"),
            ("dockerfile_path", #"..\..\etc\passwd"#, "PATH_NOT_FOUND"),
            ("context_path", "outside", "PATH_OUTSIDE_REPOSITORY"),
            ("dockerfile_path", "Dockerfile.leak", "PATH_OUTSIDE_REPOSITORY"),
        ]
        for (field, path, code) in literalPaths {
            cases.append(gateway("\(field) \(path)", [field: path], .failed(code: code)))
            cases.append(checkout("\(field) \(path)", [field: path], .failed(code: code)))
        }
        let keys: [(String, String)] = [
            ("context_key", "../../etc/passwd"), ("context_key", "/etc/passwd"), ("context_key", "contexts/../../x"),
            ("context_key", #"..\..\etc\passwd"#), ("image_key", "../images/x.tar"), ("image_key", "/tmp/x.tar"),
            ("image_key", #"images\..\..\x.tar"#), ("dockerfile_path", "../Dockerfile"), ("dockerfile_path", "/etc/passwd"),
            ("context_key", "contexts/\u{0600}/../../../x"), ("image_key", "images/\u{070F}/../../x.tar"),
            ("dockerfile_path", "\u{0605}/../../Dockerfile"), ("dockerfile_path", "/\u{0301}etc/passwd"),
        ]
        for (field, path) in keys {
            cases.append(build("\(field) \(path)", [field: path], .refused(400, code: "INVALID_BUILD")))
        }
        cases.append(
            build(
                "context_key ..%2F..%2Fetc%2Fpasswd (a literal key)", ["context_key": "..%2F..%2Fetc%2Fpasswd"],
                .failed(code: "ARTIFACT_NOT_FOUND")))
        let rawKeys = [
            "../x", "a/../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "%2e%2e/%2e%2e/x", "a%5C..%5C..%5Cx",
            "%C0%AE%C0%AE/x", "%FF/x", "a//b", "a/./b", "%ZZ",
        ] + HiddenSeparatorKeys.refusedOnTheWire + [String(repeating: "0", count: 256) + "/x"]
        for key in rawKeys {
            for method in ["PUT", "GET", "DELETE"] {
                cases.append(artifact("key \(key)", method, "/v1/artifacts/\(key)", .refused(400, code: "INVALID_KEY")))
            }
        }
        for key in ["../seed/notes.txt", "/etc/passwd", #"seed\..\..\x"#, "seed/\u{0600}/../notes.txt", "\u{06DD}/../../seed/notes.txt"] {
            cases.append(
                artifact("key \(key)", "POST", "/v1/presigned-urls", json: ["key": key], .refused(400, code: "INVALID_KEY")))
            cases.append(
                artifact(
                    "artifact_key \(key)", "POST", "/v1/pushes",
                    json: ["artifact_key": key, "destination": "127.0.0.1:5000/badinput/x:1"], .refused(400, code: "INVALID_KEY")))
        }
        cases.append(
            artifact(
                "artifact_key ../seed/notes.txt", "POST", "/v1/attestations",
                json: ["artifact_key": "../seed/notes.txt", "subject": "127.0.0.1:5000/badinput/x@sha256:" + String(repeating: "0", count: 64)],
                .refused(400, code: "INVALID_KEY")))
        cases.append(
            artifact(
                "subject unknown", "POST", "/v1/attestations",
                json: ["artifact_key": "seed/notes.txt", "subject": "127.0.0.1:5000/badinput/x@sha256:" + String(repeating: "0", count: 64)],
                .refused(404, code: "SUBJECT_NOT_FOUND")))
        cases.append(
            artifact(
                "subject by tag", "POST", "/v1/attestations",
                json: ["artifact_key": "seed/notes.txt", "subject": "127.0.0.1:5000/badinput/x:1"], .refused(400, code: "INVALID_SUBJECT")))
        cases.append(
            artifact(
                "subject ../../x", "POST", "/v1/attestations", json: ["artifact_key": "seed/notes.txt", "subject": "../../x"],
                .refused(400, code: "INVALID_SUBJECT")))
        cases.append(
            artifact(
                "destination ../../x", "POST", "/v1/pushes", json: ["artifact_key": "seed/notes.txt", "destination": "../../x"],
                .refused(400, code: "INVALID_DESTINATION")))
        cases.append(artifact("list prefix ../", "GET", "/v1/artifacts?prefix=..%2F", .answered(200)))
        return cases
    }

    // MARK: git URLs and refs

    static var gitCommands: [BadInput] {
        var cases: [BadInput] = []
        // The gateway refuses only what cannot be a URL (whitespace, credentials); checkout-service
        // applies the repository policy, so the job fails there.
        let gatewayURLs: [(String, Expected)] = [
            ("ext::{script}", .failed(code: "INVALID_CHECKOUT")),
            ("ext::sh -c touch% {marker}", .refused(400, code: "INVALID_BUILD")),
            ("fd::17", .failed(code: "INVALID_CHECKOUT")),
            ("--upload-pack={script}", .failed(code: "INVALID_CHECKOUT")),
            ("ssh://-oProxyCommand={script}/r.git", .failed(code: "INVALID_CHECKOUT")),
            ("-oProxyCommand={script}:r.git", .failed(code: "INVALID_CHECKOUT")),
            ("{scratch}", .failed(code: "INVALID_CHECKOUT")),
            ("ftp://127.0.0.1/r.git", .failed(code: "INVALID_CHECKOUT")),
            ("https://user:{gitpw}@127.0.0.1:1/r.git", .refused(400, code: "INVALID_BUILD")),
        ]
        for (url, expected) in gatewayURLs {
            cases.append(gateway("repository \(url)", ["repository": ["url": url, "ref": "main"]], expected))
        }
        // "-\u{0301}" is one Character that is not "-": a Character check let it through.
        for ref in ["--upload-pack=touch {marker}", "--output={marker}", "-h", "-", "-\u{0301}-upload-pack=touch {marker}"] {
            cases.append(
                gateway("ref \(ref)", ["repository": ["url": "{repo}", "ref": ref]], .refused(400, code: "INVALID_BUILD")))
        }
        let checkoutURLs = [
            "ext::{script}", "ext::sh -c touch% {marker}", "fd::17", "--upload-pack={script}",
            "ssh://-oProxyCommand={script}/r.git", "-oProxyCommand={script}:r.git", "git@-oProxyCommand={script}:r.git",
            "{scratch}", "ftp://127.0.0.1/r.git", "http://127.0.0.1:1/r.git", "https://user:{gitpw}@127.0.0.1:1/r.git",
            "https://{gitpw}@127.0.0.1:1/r.git",
        ]
        for url in checkoutURLs {
            cases.append(checkout("repository \(url)", ["repository": url], .refused(400, code: "INVALID_CHECKOUT")))
        }
        for ref in ["--upload-pack=touch {marker}", "--output={marker}", "-h", "-", "@{-1}", "main:../x", "-\u{0301}h"] {
            cases.append(checkout("ref \(ref)", ["ref": ref], .refused(400, code: "INVALID_CHECKOUT")))
        }
        cases.append(
            checkout(
                "a submodule at ext::{script}", ["repository": "{repo}-submodule", "submodules": true],
                .failed(code: "INVALID_CHECKOUT")))
        // Not bad input: the configured token is put to use, and must not show anywhere.
        cases.append(
            checkout(
                "a host with a configured token, unreachable", ["repository": "https://127.0.0.1:1/r.git"],
                .failed(code: "GIT_FAILED")))
        return cases
    }

    // MARK: SQL

    static let sql = "'; DROP TABLE jobs; --"
    static let sqlQuoted = #"x" OR "1"="1"; DELETE FROM artifacts; --\"#
    static let sqlRef = "main';DELETE_FROM_jobs;--"
    static let sqlURL = "file:///tmp/x';DROP/**/TABLE/**/jobs;--"
    static let sqlEncoded = sql.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!

    static var sqlInputs: [BadInput] {
        var cases: [BadInput] = []
        let gatewayFields: [(String, Any, Expected)] = [
            ("workload", sql, .refused(400, code: "INVALID_BUILD")), ("service", sql, .refused(400, code: "INVALID_BUILD")),
            ("target", sql, .refused(400, code: "INVALID_BUILD")), ("context_path", sql, .failed(code: "PATH_NOT_FOUND")),
            ("dockerfile_path", sqlQuoted, .failed(code: "PATH_NOT_FOUND")),
            ("push", ["destination": sql], .refused(400, code: "INVALID_BUILD")),
            ("repository", ["url": "{repo}", "ref": sql], .refused(400, code: "INVALID_BUILD")),
            ("repository", ["url": "{repo}", "ref": sqlRef], .failed(code: "REF_NOT_FOUND")),
            ("repository", ["url": sqlURL, "ref": "main"], .failed(code: "REPOSITORY_NOT_FOUND")),
        ]
        for (field, value, expected) in gatewayFields {
            cases.append(gateway("\(field) \(value)", [field: value], expected))
        }
        cases.append(
            gateway(
                "build_args values", ["build_args": ["X": sql, "Y": sqlQuoted], "repository": ["url": "{repo}", "ref": "no-such"]],
                .failed(code: "REF_NOT_FOUND")))
        cases += [
            BadInput(
                input: "workload query", service: "gateway", method: "GET", path: "/v1/jobs?workload=\(sqlEncoded)",
                expected: .answered(200)),
            BadInput(
                input: "service query", service: "gateway", method: "GET", path: "/v1/jobs?service=\(sqlEncoded)",
                expected: .answered(200)),
            BadInput(
                input: "job id", service: "gateway", path: "/v1/jobs/\(sqlEncoded)/cancel", expected: .refused(400, code: "INVALID_ID")),
        ]
        let checkoutFields: [(String, String, Expected)] = [
            ("repository", sql, .refused(400, code: "INVALID_CHECKOUT")), ("ref", sql, .refused(400, code: "INVALID_CHECKOUT")),
            ("ref", sqlRef, .failed(code: "REF_NOT_FOUND")), ("context_path", sql, .failed(code: "PATH_NOT_FOUND")),
            ("dockerfile_path", sqlQuoted, .failed(code: "PATH_NOT_FOUND")),
        ]
        for (field, value, expected) in checkoutFields {
            cases.append(checkout("\(field) \(value)", [field: value], expected))
        }
        let rewrites: [([String: Any], Expected)] = [
            (["dockerfile": "# \(sql)\nFROM busybox:1.36\n"], .answered(200)),
            (["dockerfile": "FROM busybox:1.36\n", "build_args": ["X": sql]], .answered(200)),
            (["dockerfile": "FROM busybox:1.36\n", "proxies": ["docker.io": sql]], .refused(400, code: "INVALID_PROXIES")),
        ]
        for (body, expected) in rewrites {
            cases.append(
                BadInput(
                    input: jsonText(body), service: "rewrite-service", path: "/v1/rewrites", json: jsonText(body), expected: expected))
        }
        let buildFields: [(String, Any, Expected)] = [
            ("workload", sql, .refused(400, code: "INVALID_BUILD")), ("target", sql, .refused(400, code: "INVALID_BUILD")),
            ("destination", sql, .refused(400, code: "INVALID_BUILD")), ("commit", sql, .refused(400, code: "INVALID_BUILD")),
            ("context_key", sql, .failed(code: "ARTIFACT_NOT_FOUND")),
            ("context_key", sqlQuoted, .refused(400, code: "INVALID_BUILD")),
            ("build_args", ["X": sql], .failed(code: "ARTIFACT_NOT_FOUND")),
            ("dockerfile", sql, .failed(code: "ARTIFACT_NOT_FOUND")),
        ]
        for (field, value, expected) in buildFields {
            cases.append(build("\(field) \(value)", [field: value], expected))
        }
        cases += [
            artifact("key", "PUT", "/v1/artifacts/sql/\(sqlEncoded)", .answered(201)),
            artifact("key", "GET", "/v1/artifacts/sql/\(sqlEncoded)", .answered(200)),
            artifact("job_id", "PUT", "/v1/artifacts/sql/x?job_id=\(sqlEncoded)", .refused(400, code: "INVALID_JOB_ID")),
            artifact("prefix", "GET", "/v1/artifacts?prefix=\(sqlEncoded)", .answered(200)),
            artifact("cursor", "GET", "/v1/artifacts?cursor=\(sqlEncoded)", .refused(400, code: "INVALID_CURSOR")),
            artifact("key", "POST", "/v1/presigned-urls", json: ["key": sql], .refused(404, code: "NOT_FOUND")),
            artifact(
                "artifact_key", "POST", "/v1/pushes", json: ["artifact_key": sql, "destination": "127.0.0.1:5000/badinput/x:1"],
                .refused(404, code: "ARTIFACT_NOT_FOUND")),
            artifact(
                "destination", "POST", "/v1/pushes", json: ["artifact_key": "seed/notes.txt", "destination": sql],
                .refused(400, code: "INVALID_DESTINATION")),
            artifact(
                "artifact_key", "POST", "/v1/attestations",
                json: ["artifact_key": sql, "subject": "127.0.0.1:5000/badinput/x@sha256:" + String(repeating: "0", count: 64)],
                .refused(404, code: "ARTIFACT_NOT_FOUND")),
            artifact(
                "subject", "POST", "/v1/attestations", json: ["artifact_key": "seed/notes.txt", "subject": sql],
                .refused(400, code: "INVALID_SUBJECT")),
        ]
        return cases
    }

    // MARK: a token in the URL

    static var tokenInURL: [BadInput] {
        let requests: [(String, String, String)] = [
            ("gateway", "GET", "/v1/jobs?access_token={token}"), ("gateway", "GET", "/v1/jobs?token={token}"),
            ("gateway", "GET", "/v1/jobs?authorization=Bearer%20{token}"), ("gateway", "POST", "/v1/builds?access_token={token}"),
            ("checkout-service", "GET", "/v1/checkouts/\(UUID())?access_token={token}"),
            ("rewrite-service", "POST", "/v1/rewrites?access_token={token}"),
            ("build-service", "GET", "/v1/builds/\(UUID())?token={token}"),
            ("artifact-service", "GET", "/v1/artifacts/seed/notes.txt?access_token={token}"),
            ("artifact-service", "GET", "/v1/artifacts/seed/notes.txt?X-Amz-Security-Token={token}"),
        ]
        return requests.map { service, method, path in
            BadInput(
                input: "token in the query", service: service, method: method, path: path, json: method == "POST" ? "{}" : nil,
                authorized: false, expected: .refused(401, code: "UNAUTHORIZED"))
        } + [
            BadInput(
                input: "token in the query of a page", service: "gateway", method: "GET", path: "/ui/?token={token}",
                authorized: false, expected: .answered(303))
        ]
    }
}
