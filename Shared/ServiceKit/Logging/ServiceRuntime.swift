import Logging
import Metrics
import Prometheus

/// Process-wide set-up that may happen once per process, so only in `main`:
/// `LoggingSystem.bootstrap` and `MetricsSystem.bootstrap` trap on a second call.
public enum ServiceRuntime {
    /// JSON logs at `level` and Prometheus metrics into the returned registry,
    /// which `/metrics` then serves.
    public static func bootstrap(level: Logger.Level) -> PrometheusCollectorRegistry {
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
