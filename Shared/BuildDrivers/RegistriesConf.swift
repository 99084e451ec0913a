import Foundation
import OCI

/// The `registries.conf` (containers-registries.conf(5), version 2) written for one
/// buildah run and passed with `--registries-conf`, so nothing depends on the host's:
///
/// - unqualified names are Docker Hub names (`unqualified-search-registries = ["docker.io"]`), as for Kaniko;
/// - with a mirror, `[[registry]] prefix = "docker.io" location = "<mirror>"`: every Docker Hub
///   name is pulled from the mirror path (`busybox:1.36` → `<mirror>/library/busybox:1.36`),
///   with no fallback to Docker Hub, like the chain's rewritten FROM lines;
/// - each insecure registry (loopback hosts, plus configured ones) gets `insecure = true`, which lets
///   containers/image speak plain HTTP to it and nothing else (no global `--tls-verify=false`).
///
/// Short-name aliases in the host's `/etc/containers/registries.conf.d/` still apply to
/// unqualified names (buildah 1.28 has no option to ignore that directory); for Docker Hub
/// images they resolve to `docker.io/…` and so go through the mirror too.
public struct RegistriesConf: Sendable, Equatable {
    /// `host[:port][/path]` Docker Hub names are pulled from; nil: Docker Hub itself.
    public var dockerHubMirror: String?
    /// Hosts (`host` or `host:port`) spoken to over plain HTTP / without TLS verification.
    public var insecureRegistries: Set<String>

    public init(dockerHubMirror: String?, insecureRegistries: Set<String>) {
        self.dockerHubMirror = dockerHubMirror
        self.insecureRegistries = insecureRegistries
    }

    public var text: String {
        var lines = [
            "# Written by buildchain for one build.",
            "unqualified-search-registries = [\"docker.io\"]",
            "short-name-mode = \"permissive\"",
        ]
        if let mirror = dockerHubMirror {
            lines += ["", "[[registry]]", "prefix = \"docker.io\"", "location = \(Self.quote(mirror))"]
            if insecureRegistries.contains(Self.host(of: mirror)) { lines.append("insecure = true") }
        }
        for host in insecureRegistries.sorted() {
            lines += ["", "[[registry]]", "location = \(Self.quote(host))", "insecure = true"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A TOML basic string.
    static func quote(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                result += String(format: "\\u%04X", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// `127.0.0.1:5000/dockerhub-proxy` → `127.0.0.1:5000`.
    static func host(of location: String) -> String {
        String(location.prefix { $0 != "/" })
    }

    /// `localhost`, `127.x.x.x`, `::1` (bracketed or not), with or without a port.
    public static func isLoopback(_ registry: String) -> Bool {
        var host = host(of: registry).lowercased()
        if host.hasPrefix("[") {
            host = String(host.dropFirst().prefix { $0 != "]" })
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            host = String(host[..<colon])
        }
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}

/// The registries a Dockerfile pulls from, read from its `FROM` and `COPY --from=` lines
/// (`ARG` defaults before the first FROM and the build arguments substituted), so that
/// loopback ones can be marked insecure. Best effort: a name it cannot read is left out.
enum DockerfileRegistries {
    static func registries(in text: String, buildArguments: [String: String]) -> Set<String> {
        var arguments: [String: String] = [:]
        var seenFrom = false
        var registries: Set<String> = []
        for instruction in instructions(text) {
            let words = instruction.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let keyword = words.first?.uppercased() else { continue }
            switch keyword {
            case "ARG" where !seenFrom:
                for word in words.dropFirst() {
                    let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
                    arguments[parts[0]] = buildArguments[parts[0]] ?? (parts.count == 2 ? unquote(parts[1]) : "")
                }
            case "FROM":
                seenFrom = true
                if let image = words.dropFirst().first(where: { !$0.hasPrefix("--") }) {
                    registries.formUnion(registry(of: substitute(image, arguments)))
                }
            case "COPY":
                for word in words where word.hasPrefix("--from=") {
                    registries.formUnion(registry(of: substitute(String(word.dropFirst(7)), arguments)))
                }
            default:
                break
            }
        }
        return registries
    }

    /// Instructions with `\` continuations joined, comments and blank lines dropped.
    static func instructions(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let trimmed = line.drop { $0.isWhitespace }
            if current.isEmpty && (trimmed.isEmpty || trimmed.hasPrefix("#")) { continue }
            if line.hasSuffix("\\") {
                current += line.dropLast() + " "
            } else {
                current += line
                result.append(current)
                current = ""
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// `$NAME` and `${NAME}` (and `${NAME:-default}`) from `arguments`.
    static func substitute(_ word: String, _ arguments: [String: String]) -> String {
        guard word.contains("$") else { return word }
        var result = ""
        var index = word.startIndex
        while index < word.endIndex {
            let char = word[index]
            guard char == "$" else {
                result.append(char)
                index = word.index(after: index)
                continue
            }
            let next = word.index(after: index)
            if next < word.endIndex, word[next] == "{", let close = word[next...].firstIndex(of: "}") {
                let body = word[word.index(after: next)..<close]
                if let dash = body.range(of: ":-") {
                    let value = arguments[String(body[..<dash.lowerBound])] ?? ""
                    result += value.isEmpty ? String(body[dash.upperBound...]) : value
                } else {
                    result += arguments[String(body)] ?? ""
                }
                index = word.index(after: close)
            } else {
                let name = word[next...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                result += arguments[String(name)] ?? ""
                index = word.index(next, offsetBy: name.count)
            }
        }
        return result
    }

    private static func unquote(_ value: String) -> String {
        if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
            return String(value.dropFirst().dropLast())
        }
        return value
    }

    /// The registry of an image name that names one explicitly (stage names and Docker Hub names give none).
    private static func registry(of name: String) -> Set<String> {
        guard let slash = name.firstIndex(of: "/") else { return [] }
        let first = name[..<slash]
        guard first.contains(".") || first.contains(":") || first == "localhost",
            let reference = try? OCIReference(parsing: name)
        else { return [] }
        return [reference.registry]
    }
}
