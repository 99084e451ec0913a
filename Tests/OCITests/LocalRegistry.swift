import Foundation

/// A `docker-registry` of the test's own, on a free loopback port, with
/// filesystem storage under the test's directory. `auth` is the YAML of the
/// config's `auth:` section, indented by four spaces.
struct LocalRegistry: Sendable {
    let process: BackgroundProcess
    /// `127.0.0.1:<port>`.
    let address: String

    static func start(in directory: String, auth: String) async throws -> LocalRegistry {
        let config = """
            version: 0.1
            log:
              level: info
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: \(directory)/registry-data
            http:
              addr: 127.0.0.1:0
              secret: \(UUID().uuidString)
            auth:
            \(auth)
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: directory + "/registry.yml"))
        let (process, port) = try await BackgroundProcess.start(
            ["docker-registry", "serve", directory + "/registry.yml"], logPath: directory + "/registry.log",
            readyPattern: #"listening on 127\.0\.0\.1:(\d+)"#)
        return LocalRegistry(process: process, address: "127.0.0.1:\(port)")
    }

    /// A bcrypt htpasswd line, from `htpasswd` if installed, else Python's `crypt`, else `bcrypt`.
    static func htpasswdLine(user: String, password: String) async throws -> String {
        if Shell.which("htpasswd") != nil {
            return try await Shell.run(["htpasswd", "-nbB", user, password]).trimmingCharacters(
                in: .whitespacesAndNewlines)
        }
        let script = """
            import sys, warnings
            warnings.simplefilter("ignore")
            password = sys.stdin.read()
            try:
                import crypt
                print(crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH)))
            except ImportError:
                import bcrypt
                print(bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode())
            """
        let hash = try await Shell.run(["python3", "-c", script], input: password)
        return "\(user):\(hash.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
}

/// Docker's token service, as far as a registry needs it: `GET /token` with
/// Basic credentials (or none: an anonymous token granting nothing) and the
/// OAuth2 refresh-token grant on `POST /token`. Tokens are RS256 JWTs signed
/// with `openssl dgst`, carrying the certificate in `x5c`; each request is
/// logged as `<method> <scopes>` in `requests.log`.
struct TokenServer: Sendable {
    let process: BackgroundProcess
    let realm: String
    let certificatePath: String
    let requestLog: String
    static let issuer = "buildchain-test-issuer"
    static let service = "buildchain-test-registry"

    static func start(in directory: String, user: String, password: String, refreshToken: String) async throws
        -> TokenServer
    {
        try await Shell.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "token.key", "-out", "token.pem",
                "-days", "1", "-subj", "/CN=buildchain-test-token-issuer",
            ], in: directory)
        try await Shell.run(
            ["openssl", "x509", "-in", "token.pem", "-outform", "DER", "-out", "token.der"], in: directory)
        try Data(script.utf8).write(to: URL(fileURLWithPath: directory + "/token_server.py"))
        let requestLog = directory + "/requests.log"
        let (process, port) = try await BackgroundProcess.start(
            [
                "python3", directory + "/token_server.py", directory + "/token.key", directory + "/token.der", issuer,
                service,
                user, password, refreshToken, requestLog,
            ], logPath: directory + "/token-server.log", readyPattern: #"listening on 127\.0\.0\.1:(\d+)"#)
        return TokenServer(
            process: process, realm: "http://127.0.0.1:\(port)/token", certificatePath: directory + "/token.pem",
            requestLog: requestLog)
    }

    /// The registry config's `auth:` section for this server.
    var registryAuth: String {
        """
            token:
              realm: \(realm)
              service: \(Self.service)
              issuer: \(Self.issuer)
              rootcertbundle: \(certificatePath)
        """
    }

    var requests: [String] {
        ((try? String(contentsOfFile: requestLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    private static let script = #"""
        import base64, http.server, json, subprocess, sys, time, urllib.parse, uuid

        key_path, cert_path, issuer, service, user, password, refresh, log_path = sys.argv[1:9]
        with open(cert_path, "rb") as f:
            x5c = base64.b64encode(f.read()).decode()

        def b64url(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        def access_for(scopes):
            access = []
            for scope in " ".join(scopes).split():
                kind, _, rest = scope.partition(":")
                name, _, actions = rest.rpartition(":")
                access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
            return access

        def token(subject, access):
            now = int(time.time())
            header = {"typ": "JWT", "alg": "RS256", "x5c": [x5c]}
            claims = {"iss": issuer, "sub": subject, "aud": service, "exp": now + 300, "nbf": now - 10,
                      "iat": now, "jti": uuid.uuid4().hex, "access": access}
            signed = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
            signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_path], input=signed,
                                       capture_output=True, check=True).stdout
            return signed.decode() + "." + b64url(signature)

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def refuse(self):
                self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "invalid username or password"}]})

            def record(self, method, scopes):
                with open(log_path, "a") as f:
                    f.write(method + " " + " ".join(scopes) + "\n")

            def do_GET(self):
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                scopes = query.get("scope", [])
                self.record("GET", scopes)
                given = self.headers.get("Authorization")
                if given is None:
                    return self.answer(200, {"token": token("", []), "expires_in": 300})
                if given != "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode():
                    return self.refuse()
                self.answer(200, {"token": token(user, access_for(scopes)), "expires_in": 300})

            def do_POST(self):
                form = urllib.parse.parse_qs(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode())
                scopes = form.get("scope", [])
                self.record("POST", scopes)
                if form.get("grant_type") != ["refresh_token"] or form.get("refresh_token") != [refresh]:
                    return self.refuse()
                self.answer(200, {"access_token": token(user, access_for(scopes)), "expires_in": 300})

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
        server.serve_forever()
        """#
}
