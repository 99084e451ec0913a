import Foundation
import Hummingbird
import Logging
import Prometheus

/// The body of every service's `main`: read the configuration (exit 2
/// naming the bad variable), bootstrap logging and metrics, run until
/// SIGTERM/SIGINT, exit 0 after a graceful shutdown.
public enum ServiceMain {
    public static func run<Configuration, App: ApplicationProtocol>(
        _ name: String,
        configuration load: (EnvironmentReader) throws -> Configuration,
        common: (Configuration) -> CommonConfiguration,
        application build: (Configuration, PrometheusCollectorRegistry) async throws -> App
    ) async {
        let configuration: Configuration
        do {
            configuration = try load(.process)
        } catch {
            FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
            exit(2)
        }
        let registry = ServiceRuntime.bootstrap(level: common(configuration).logLevel)
        let logger = Logger(label: name)
        do {
            let app = try await build(configuration, registry)
            try await app.runService()
            logger.info("stopped")
        } catch {
            logger.critical("service failed", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}
