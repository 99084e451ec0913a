import Foundation
import Logging

/// Writes each record as one JSON object per line on standard error:
/// `{"ts":…,"level":…,"logger":…,"msg":…, <metadata>…}`.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    public init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var object: [String: Logger.Metadata.Value] = [
            "ts": .string(JSONLogHandler.timestamp()),
            "level": .string(event.level.rawValue),
            "logger": .string(label),
            "msg": .string(event.message.description),
        ]
        for (key, value) in merged where object[key] == nil {
            object[key] = value
        }
        // Written by hand: JSONSerialization sorted the keys with locale-aware NSString compares
        // and was a fifth of the gateway's CPU per request at a log line a request.
        // In bytes: appending to a String scalar by scalar was half the cost of the line.
        var line: [UInt8] = []
        line.reserveCapacity(512)
        JSONLogHandler.write(.dictionary(object), to: &line)
        line.append(UInt8(ascii: "\n"))
        FileHandle.standardError.write(Data(line))
    }

    /// Compact JSON, object keys sorted.
    static func write(_ value: Logger.Metadata.Value, to line: inout [UInt8]) {
        switch value {
        case .string(let string): writeString(string, to: &line)
        case .stringConvertible(let convertible): writeString(convertible.description, to: &line)
        case .array(let array):
            line.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                write(element, to: &line)
            }
            line.append(UInt8(ascii: "]"))
        case .dictionary(let dictionary):
            line.append(UInt8(ascii: "{"))
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                writeString(key, to: &line)
                line.append(UInt8(ascii: ":"))
                write(dictionary[key]!, to: &line)
            }
            line.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ string: String, to line: inout [UInt8]) {
        JSONTextWriter.writeString(string, to: &line)
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
    }
}
