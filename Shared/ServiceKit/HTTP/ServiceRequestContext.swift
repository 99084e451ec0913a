import HTTPTypes
import Hummingbird
import Logging

/// What every buildchain request context carries besides Hummingbird's core.
public protocol BuildchainRequestContext: RequestContext where Source == ApplicationRequestContextSource {
    var requestID: String { get set }
    var traceID: String { get set }
    var maxBodyBytes: Int { get set }
}

public struct ServiceRequestContext: BuildchainRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID = ""
    public var traceID = ""
    /// Set per request by `BodyLimitMiddleware` from the service's configuration.
    public var maxBodyBytes = 1 << 20

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Hummingbird's `request.decode` collects at most this much.
    public var maxUploadSize: Int { maxBodyBytes }
}

public typealias ServiceContextProtocol = BuildchainRequestContext
