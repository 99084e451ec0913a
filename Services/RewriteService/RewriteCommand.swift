import ArgumentParser
import Dockerfile
import Foundation
import HTTPClient
import OCI

/// `rewrite-service rewrite [--proxy REGISTRY=TARGET]… [--build-arg K=V]… [--in-place] [--json] FILE`:
/// the rewrite as a one-shot command for CI steps and scripts.
public struct RewriteCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rewrite",
        abstract: "Rewrite a Dockerfile's base images to the registry's proxy-cache projects.",
        discussion: """
            Prints the rewritten Dockerfile (or, with --json, the same document POST /v1/rewrites \
            returns) and writes warnings to standard error. Without --proxy, REWRITE_PROXIES is used.
            """)

    @Option(name: .customLong("proxy"), help: "REGISTRY=TARGET, e.g. docker.io=harbor.example.com/dockerhub-proxy.")
    var proxies: [String] = []

    @Option(name: .customLong("build-arg"), help: "NAME=VALUE, as passed to the build.")
    var buildArgs: [String] = []

    @Option(help: "The build's target platform, os/arch[/variant] (sets TARGETARCH and the like).")
    var platform = BuildPlatform.linuxAMD64.description

    @Flag(help: "Rewrite FILE in place instead of printing it.")
    var inPlace = false

    @Flag(help: "Print the result as JSON (text, changes, warnings, diff).")
    var json = false

    @Flag(help: "Pin each rewritten reference to its digest on the proxy registry (credentials: REGISTRY_AUTH_FILE).")
    var pin = false

    @Argument(help: "The Dockerfile.")
    var file: String

    public init() {}

    public func run() async throws {
        let proxyText =
            proxies.isEmpty ? ProcessInfo.processInfo.environment["REWRITE_PROXIES"] ?? "" : proxies.joined(separator: ",")
        let proxyMap: ProxyMap
        do {
            proxyMap = try ProxyMap(parsing: proxyText)
        } catch {
            throw ValidationError(error.description)
        }
        var arguments: [String: String] = [:]
        for pair in buildArgs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("--build-arg \(pair): expected NAME=VALUE")
            }
            arguments[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        guard let targetPlatform = BuildPlatform(parsing: platform) else {
            throw ValidationError("--platform \(platform): expected os/arch[/variant]")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ValidationError("\(file) is not UTF-8 text")
        }
        let result: RewriteResult
        do {
            result = try DockerfileRewriter().rewrite(text, proxies: proxyMap, buildArgs: arguments, platform: targetPlatform)
        } catch let error as DockerfileError {
            FileHandle.standardError.write(Data("\(file):\(error.line): \(error.reason)\n".utf8))
            throw ExitCode(1)
        } catch let refusal as UnsafeRewrite {
            FileHandle.standardError.write(Data("\(file):\(refusal.line): refused (REWRITE_UNSAFE): \(refusal)\n".utf8))
            throw ExitCode(1)
        }
        var pinned: (text: String, changes: [Change])?
        if pin {
            let environment = ProcessInfo.processInfo.environment
            let credentials = try environment["REGISTRY_AUTH_FILE"].map { try RegistryCredentials(configFile: $0) } ?? .none
            let pinner = ReferencePinner(registry: RegistryClient(http: HTTPClient(), credentials: credentials))
            do {
                pinned = try await pinner.pin(result)
            } catch {
                FileHandle.standardError.write(Data("\(file): \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        let output = pinned?.text ?? result.text
        for warning in result.warnings {
            FileHandle.standardError.write(Data("\(file):\(warning.line): warning: \(warning.message)\n".utf8))
        }
        if inPlace {
            try Data(output.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(RewriteResponse(result, pinned: pinned)))
            FileHandle.standardOutput.write(Data("\n".utf8))
        } else if !inPlace {
            FileHandle.standardOutput.write(Data(output.utf8))
        }
    }
}

extension RewriteCommand {
    /// Runs the one-shot command, and exits, when the process was started as
    /// `rewrite-service rewrite …`; otherwise returns and the server starts.
    public static func runIfRequested(_ arguments: [String] = CommandLine.arguments) async {
        guard arguments.dropFirst().first == "rewrite" else { return }
        await main(Array(arguments.dropFirst(2)))
        Foundation.exit(0)
    }
}
