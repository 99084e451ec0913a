/// One pass over a request's JSON text for what the decoder lets through and we refuse.
struct JSONTextScan {
    /// A `\u0000` escape (a raw NUL byte is not JSON at all).
    private(set) var escapesNUL = false
    /// A `null` outside strings. Only meaningful for valid JSON, where an `n` outside a string
    /// is always the start of `null`.
    private(set) var hasNullLiteral = false

    private enum Escape {
        case none
        /// The byte before was a backslash.
        case started
        /// `\u` and this many `0`s so far.
        case unicode(zeros: Int)
    }

    init(_ bytes: some Sequence<UInt8>) {
        var inString = false
        var escape = Escape.none
        for byte in bytes {
            switch escape {
            case .started:
                escape = byte == UInt8(ascii: "u") ? .unicode(zeros: 0) : .none
                continue
            case .unicode(let zeros) where byte == UInt8(ascii: "0"):
                if zeros == 3 { escapesNUL = true }
                escape = zeros == 3 ? .none : .unicode(zeros: zeros + 1)
                continue
            case .unicode:
                // Not U+0000: this byte is read as any other.
                escape = .none
            case .none:
                break
            }
            if byte == UInt8(ascii: "\\") {
                escape = .started
            } else if byte == UInt8(ascii: "\"") {
                inString.toggle()
            } else if !inString && byte == UInt8(ascii: "n") {
                hasNullLiteral = true
            }
        }
    }
}
