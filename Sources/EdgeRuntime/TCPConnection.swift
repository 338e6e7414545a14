// A TCP connection as a byte pipe with timed reads and writes, and a listener that accepts them; the
// sockets live in the shim's socket_posix.c. Closed when the object goes away.
import CEdgeShim

public final class TCPConnection {
    let fd: Int32
    /// The peer as "host:port", for logs.
    public let peer: String
    /// How long one write may wait for room in the socket's send buffer.
    public var writeTimeoutMs = 5_000

    /// Connects to `address`, waiting at most `timeoutMs` for each resolved address to answer.
    public init(connectingTo address: TCPAddress, timeoutMs: Int) throws(NetworkError) {
        let r = cedge_tcp_connect(address.host, address.port, Int32(timeoutMs))
        if r == CEDGE_SOCKET_RESOLVE_FAILED {
            throw .resolveFailed(host: address.host, reason: String(cString: cedge_socket_resolve_text()))
        }
        if r < 0 { throw .connectFailed(address: address.description, errno: -r, message: String(cString: cedge_error_text(-r))) }
        fd = r
        peer = address.description
    }

    init(adopting fd: Int32) {
        self.fd = fd
        var name = [CChar](repeating: 0, count: 80)
        let ok = cedge_tcp_peer_name(fd, &name, name.count) == 0
        peer = ok ? name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } : "unknown peer"
    }

    deinit { _ = cedge_tcp_close(fd) }

    /// What arrives within `timeoutMs` (empty when nothing did); `.closedByPeer` once the peer is gone.
    public func read(timeoutMs: Int) throws(NetworkError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let n = buffer.withUnsafeMutableBufferPointer { cedge_fd_read(fd, $0.baseAddress, $0.count, Int32(timeoutMs)) }
        if n == -32 || n == -104 { throw .closedByPeer }  // EPIPE (end of stream), ECONNRESET
        if n < 0 { throw TCPConnection.failure("read", Int32(-n)) }
        buffer.removeLast(buffer.count - n)
        return buffer
    }

    public func write(_ bytes: [UInt8]) throws(NetworkError) {
        if bytes.isEmpty { return }
        let r = bytes.withUnsafeBufferPointer { cedge_tcp_write(fd, $0.baseAddress, $0.count, Int32(writeTimeoutMs)) }
        if r == -32 || r == -104 { throw .closedByPeer }
        if r == -110 { throw .timedOut(waitedMs: writeTimeoutMs) }  // ETIMEDOUT: the peer stopped reading
        if r < 0 { throw TCPConnection.failure("write", -r) }
    }

    static func failure(_ operation: String, _ errno: Int32) -> NetworkError {
        .io(operation: operation, errno: errno, message: String(cString: cedge_error_text(errno)))
    }
}

public final class TCPListener {
    let fd: Int32
    /// The port in use (the one chosen by the system when 0 was asked for).
    public let port: UInt16
    public let address: TCPAddress

    /// Listens on `address` (host "" or "0.0.0.0" for every interface; port 0 for any free port).
    public init(address: TCPAddress) throws(NetworkError) {
        var bound: Int32 = 0
        let r = cedge_tcp_listen(address.host, address.port, &bound)
        if r == CEDGE_SOCKET_RESOLVE_FAILED {
            throw .resolveFailed(host: address.host, reason: String(cString: cedge_socket_resolve_text()))
        }
        if r < 0 { throw .listenFailed(address: address.description, errno: -r, message: String(cString: cedge_error_text(-r))) }
        fd = r
        port = UInt16(truncatingIfNeeded: bound)
        self.address = TCPAddress(host: address.host, port: port)
    }

    deinit { _ = cedge_tcp_close(fd) }

    /// The next connection, or nil when none came within `timeoutMs`.
    public func accept(timeoutMs: Int) throws(NetworkError) -> TCPConnection? {
        let r = cedge_tcp_accept(fd, Int32(timeoutMs))
        if r == -11 { return nil }  // EAGAIN
        if r < 0 { throw TCPConnection.failure("accept", -r) }
        return TCPConnection(adopting: r)
    }
}

/// Sleeps the calling thread (reconnect back-off, pacing).
public func sleepMilliseconds(_ ms: Int) { cedge_sleep_ms(Int32(ms)) }
