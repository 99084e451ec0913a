import RequestValidation

/// The operation whose JSON body `RequestValidationMiddleware` checked against the spec for the
/// request being handled (bound while the route runs), so a handler that must check a body
/// against the same limits anyway (the gateway's submission, shared with the webhooks) knows
/// the body it decoded already passed them.
public enum CheckedRequestBody {
    @TaskLocal public static var operationID: String?
    /// The body as the check parsed it (as `JSONDecoder` reads it), for a route that can take
    /// its value from it instead of decoding the bytes again (`SubmitFastPath`).
    @TaskLocal public static var parsed: JSONNode?
}
