// A raw-mode serial port (or one end of a pseudo-terminal) as a byte pipe with timed reads; termios lives
// in the shim's serial_posix.c.
import CEdgeShim

public final class SerialPort {
    let fd: Int32

    /// Opens `path` (e.g. /dev/ttyUSB0) raw, 8N1, at `baud`.
    public init(path: String, baud: UInt32) throws(SerialError) {
        let r = cedge_serial_open(path, baud)
        if r == -22 { throw .unsupportedBaud(baud) }  // EINVAL
        if r < 0 { throw .openFailed(path: path, errno: -r, message: String(cString: cedge_error_text(-r))) }
        fd = r
    }

    init(adopting fd: Int32) { self.fd = fd }

    deinit { _ = cedge_serial_close(fd) }

    /// What arrives within `timeoutMs` (empty when nothing did).
    public func read(timeoutMs: Int) throws(SerialError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBufferPointer { cedge_serial_read(fd, $0.baseAddress, $0.count, Int32(timeoutMs)) }
        if n == -32 { throw .closedByPeer }  // EPIPE
        if n < 0 { throw SerialPort.failure("read", Int32(-n)) }
        buffer.removeLast(buffer.count - n)
        return buffer
    }

    public func write(_ bytes: [UInt8]) throws(SerialError) {
        if bytes.isEmpty { return }
        let r = bytes.withUnsafeBufferPointer { cedge_serial_write(fd, $0.baseAddress, $0.count) }
        if r < 0 { throw SerialPort.failure("write", -r) }
    }

    static func failure(_ operation: String, _ errno: Int32) -> SerialError {
        .io(operation: operation, errno: errno, message: String(cString: cedge_error_text(errno)))
    }
}

/// A pseudo-terminal pair: what is written to one end is read from the other, through the kernel's tty
/// layer with the slave in raw mode, as on a real serial line.
public struct PseudoTerminal {
    public let master: SerialPort
    public let slave: SerialPort
    /// The slave's device path (/dev/pts/N), for a program that opens it by name.
    public let slavePath: String

    public static func open() throws(SerialError) -> PseudoTerminal {
        var m: Int32 = -1, s: Int32 = -1
        var name = [CChar](repeating: 0, count: 128)
        let r = cedge_serial_open_pty(&m, &s, &name, name.count)
        if r < 0 { throw SerialPort.failure("open pseudo-terminal", -r) }
        let path = name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return PseudoTerminal(master: SerialPort(adopting: m), slave: SerialPort(adopting: s), slavePath: path)
    }
}
