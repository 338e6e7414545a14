// What can go wrong on a TCP link: the address, the connection, the transfer, or the peer's messages.
public enum NetworkError: Error, Equatable, CustomStringConvertible {
    /// "HOST:PORT" that does not parse (no port, a port outside 1...65535, an empty host).
    case badAddress(String, reason: String)
    /// The host name does not resolve.
    case resolveFailed(host: String, reason: String)
    /// No server listens there (ECONNREFUSED), it is unreachable, or it did not answer in time.
    case connectFailed(address: String, errno: Int32, message: String)
    case listenFailed(address: String, errno: Int32, message: String)
    case io(operation: String, errno: Int32, message: String)
    /// The other end closed the connection (or it was reset).
    case closedByPeer
    /// Nothing conclusive happened within the allowed time.
    case timedOut(waitedMs: Int)
    /// The frame layer gave up on a message (the peer stopped acknowledging).
    case transfer(FrameError)
    /// A message arrived intact but is not one this side understands.
    case badMessage(reason: String)
    /// The peer turned this side away (another model, a bad hello) and said why.
    case refused(reason: String)

    public var description: String {
        switch self {
        case .badAddress(let text, let reason): return "bad address '\(text)': \(reason) (expected HOST:PORT)"
        case .resolveFailed(let host, let reason): return "cannot resolve \(host): \(reason)"
        case .connectFailed(let address, let errno, let message):
            if errno == 111 { return "cannot connect to \(address): connection refused (nothing listens there)" }
            return "cannot connect to \(address): \(message) (errno \(errno))"
        case .listenFailed(let address, let errno, let message): return "cannot listen on \(address): \(message) (errno \(errno))"
        case .io(let operation, let errno, let message): return "network \(operation) failed: \(message) (errno \(errno))"
        case .closedByPeer: return "the other end closed the connection"
        case .timedOut(let ms): return "no answer on the connection within \(ms) ms"
        case .transfer(let e): return "transfer failed: \(e.description)"
        case .badMessage(let reason): return "bad message from the peer: \(reason)"
        case .refused(let reason): return "refused by the peer: \(reason)"
        }
    }

    /// True when the connection is gone and a new one is needed.
    public var losesConnection: Bool {
        switch self {
        case .closedByPeer, .io, .transfer, .timedOut: return true
        default: return false
        }
    }
}
