/// Headers every outbound request of the current task carries, so a
/// request id and W3C trace context follow a call across services. The
/// server middleware binds them for the duration of each request.
public enum OutboundTrace {
    @TaskLocal public static var headers: [(String, String)] = []
}
