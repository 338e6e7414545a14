// "HOST:PORT" as users type it: a name, an IPv4 address, or a bracketed IPv6 address ("[::1]:7070").
public struct TCPAddress: Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses "HOST:PORT"; with `defaultHost`, a bare "PORT" (or ":PORT") is accepted too (for listeners).
    public init(parsing text: String, defaultHost: String? = nil) throws(NetworkError) {
        var hostPart: Substring
        var portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .badAddress(text, reason: "an IPv6 address needs its closing ']'") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .badAddress(text, reason: "no ':PORT' after the IPv6 address") }
            portPart = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") { throw .badAddress(text, reason: "write an IPv6 address in brackets, [ADDR]:PORT") }
        } else if defaultHost != nil {
            hostPart = ""
            portPart = text[...]
        } else {
            throw .badAddress(text, reason: "no ':PORT'")
        }
        if hostPart.isEmpty {
            guard let d = defaultHost else { throw .badAddress(text, reason: "no host before the port") }
            hostPart = d[...]
        }
        guard !portPart.isEmpty, portPart.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let p = Int(portPart),
              p <= 65535, p > 0 || defaultHost != nil else {
            throw .badAddress(text, reason: "the port must be a number in 1...65535")
        }
        host = String(hostPart)
        port = UInt16(p)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
