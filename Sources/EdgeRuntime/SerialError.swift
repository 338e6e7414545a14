// What can go wrong on a serial link: the device, the line, the transfer, or the peer's answer.
public enum SerialError: Error, Equatable, CustomStringConvertible {
    case openFailed(path: String, errno: Int32, message: String)
    /// termios has no constant for this rate.
    case unsupportedBaud(UInt32)
    case io(operation: String, errno: Int32, message: String)
    /// The other end closed the line (a pty whose peer exited, an unplugged adapter).
    case closedByPeer
    /// Nothing conclusive happened within the allowed time.
    case timedOut(waitedMs: Int)
    /// The frame layer gave up on a message.
    case transfer(FrameError)

    public var description: String {
        switch self {
        case .openFailed(let path, let errno, let message): return "cannot open \(path): \(message) (errno \(errno))"
        case .unsupportedBaud(let b): return "unsupported baud rate \(b) (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000)"
        case .io(let operation, let errno, let message): return "serial \(operation) failed: \(message) (errno \(errno))"
        case .closedByPeer: return "the other end closed the serial line"
        case .timedOut(let ms): return "no answer on the serial line within \(ms) ms"
        case .transfer(let e): return "transfer failed: \(e.description)"
        }
    }
}
