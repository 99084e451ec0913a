/// The operation whose JSON body `RequestValidationMiddleware` checked against the spec for the
/// request being handled (bound while the route runs), so a handler that must check a body
/// against the same limits anyway (the gateway's submission, shared with the webhooks) knows
/// the body it decoded already passed them.
public enum CheckedRequestBody {
    @TaskLocal public static var operationID: String?
}
