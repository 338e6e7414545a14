// `cema flash --serial DEVICE [--baud N] PATCH` or `cema flash --tcp HOST:PORT PATCH`: sends a signed patch
// to a board's `edge-agent serve` (--serial, or --listen for TCP) with FrameCodec framing and reports the
// board's answer. Over TCP a dropped connection is re-opened with back-off and the transfer resumes at the
// last chunk the board acknowledged (both sides keep their codec across connections).
import ArgumentParser
import EdgeRuntime
import Foundation

struct FlashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flash",
        abstract: "Send a signed patch to a board over a serial line or TCP; the board verifies, stores and applies it.")

    @Argument(help: "Signed patch file (cema patch sign).") var patch: String
    @Option(help: "Serial device, e.g. /dev/ttyUSB0.") var serial: String?
    @Option(help: "A board's `edge-agent serve --listen` address, HOST:PORT.") var tcp: String?
    @Option(help: "TCP: milliseconds to wait for a connection.") var connectTimeoutMs: Int = 3_000
    @Option(help: "Baud rate.") var baud: UInt32 = 115200
    @Option(help: "Payload bytes per frame.") var chunkSize: Int = 512
    @Option(help: "Milliseconds to wait for the board's answer to one attempt.") var timeoutMs: Int = 10_000
    @Option(help: "Attempts before giving up (a retry of a patch already applied is answered as such).")
    var attempts: Int = 3

    func run() throws {
        let bytes: [UInt8]
        do { bytes = try readFile(patch) } catch { fail("\(error)") }
        switch (serial, tcp) {
        case (let device?, nil): flashSerial(bytes, device: device)
        case (nil, let address?): flashTCP(bytes, address: address)
        default: fail("give one of --serial DEVICE or --tcp HOST:PORT")
        }
    }

    func flashSerial(_ bytes: [UInt8], device serial: String) {
        let port: SerialPort
        do { port = try SerialPort(path: serial, baud: baud) } catch { fail("\(error)") }
        // Retransmission after twice the time a full frame takes on the line, at least 100 ms.
        let frameMs = (chunkSize + 34) * 10 * 1000 / Int(baud)
        let config = FrameCodecConfiguration(chunkSize: chunkSize, maxFramePayload: max(chunkSize, 1024),
                                             retransmitAfterMs: max(100, 2 * frameMs), maxAttempts: 10,
                                             firstMessageID: serialSessionMessageID())
        var link: SerialLink
        do { link = SerialLink(port: port, codec: try FrameCodec(config)) } catch { fail("\(error)") }
        for attempt in 1...max(1, attempts) {
            do {
                let reply = try link.request(bytes, timeoutMs: timeoutMs)
                guard let answer = SerialPatchReply.decode(reply, request: bytes) else {
                    print("attempt \(attempt): an answer to another request; retrying")
                    continue
                }
                switch answer {
                case .installed(let v): print("\(serial): \(patch) installed, the board is at version \(v)")
                case .alreadyApplied(let v, let h):
                    print("\(serial): \(patch) (version \(v)) was already applied; the board has accepted up to version \(h)")
                case .refused(let reason): fail("\(serial): the board refused \(patch): \(reason)")
                }
                return
            } catch {
                print("attempt \(attempt): \(error)")
            }
        }
        fail("\(serial): \(patch) could not be delivered in \(attempts) attempts")
    }

    func flashTCP(_ bytes: [UInt8], address text: String) {
        let address: TCPAddress
        do { address = try TCPAddress(parsing: text) } catch { fail("--tcp: \(error)") }
        var config = tcpFrameConfiguration()
        config.chunkSize = max(1, min(chunkSize, config.maxFramePayload))
        var codec: FrameCodec
        let messageID: UInt32
        do {
            codec = try FrameCodec(config)
            messageID = try codec.send(bytes)
        } catch { fail("\(patch): \(error)") }
        var backoff = ReconnectBackoff(BackoffConfig(initialMs: 200, maximumMs: 5_000))
        let started = Date()
        var lastError = ""
        for attempt in 1...max(1, attempts) {
            let left = timeoutMs - Int(Date().timeIntervalSince(started) * 1000)
            let outcome = exchange(bytes, &codec, address: address, timeoutMs: max(1, left), again: attempt > 1)
            switch outcome {
            case .success(let (answer, resumed)):
                let how = resumed > 0 ? " (resumed: \(resumed) chunk(s) were already at the board)" : ""
                switch answer {
                case .installed(let v): print("\(address): \(patch) installed, the board is at version \(v)\(how)")
                case .alreadyApplied(let v, let h):
                    print("\(address): \(patch) (version \(v)) was already applied; the board has accepted up to version \(h)")
                case .refused(let reason): fail("\(address): the board refused \(patch): \(reason)")
                }
                return
            case .failure(let error):
                lastError = "\(error)"
                switch error {
                case .badAddress, .resolveFailed: fail("\(error)")
                case .transfer(.retriesExhausted):
                    // The board stopped answering: the same message again under its id, so the board's codec
                    // continues at the chunk it needs (or acknowledges a message it already has).
                    do { try codec.resume(bytes, messageID: messageID) } catch { fail("\(error)") }
                default: break
                }
                if Date().timeIntervalSince(started) * 1000 > Double(timeoutMs) {
                    fail("\(address): \(patch): no answer within \(timeoutMs) ms (\(error))")
                }
                if attempt == attempts { break }
                let wait = backoff.nextDelayMs()
                print("attempt \(attempt): \(error); retrying in \(wait) ms")
                sleepMilliseconds(wait)
            }
        }
        fail("\(address): \(patch) could not be delivered in \(attempts) attempts (last: \(lastError))")
    }

    /// One connection: carry what `codec` has in flight and wait for the board's answer to `bytes`.
    /// The codec comes back updated either way, so the next connection resumes where this one stopped.
    func exchange(_ bytes: [UInt8], _ codec: inout FrameCodec, address: TCPAddress,
                  timeoutMs: Int, again: Bool) -> Result<(SerialPatchReply, Int), NetworkError> {
        let connection: TCPConnection
        do { connection = try TCPConnection(connectingTo: address, timeoutMs: connectTimeoutMs) } catch { return .failure(error) }
        var link = TCPLink(connection: connection, codec: codec)
        defer { codec = link.codec }
        // On a new connection after a drop, the chunk in flight goes out again at once.
        if again { link.codec.tick(elapsedMs: link.codec.configuration.retransmitAfterMs) }
        let start = Date()
        while true {
            let left = timeoutMs - Int(Date().timeIntervalSince(start) * 1000)
            if left <= 0 { return .failure(.timedOut(waitedMs: timeoutMs)) }
            let reply: [UInt8]
            do { reply = try link.awaitReply(timeoutMs: left) } catch { return .failure(error) }
            guard let answer = SerialPatchReply.decode(reply, request: bytes) else { continue }
            // Let the board see the ACK of its reply before the connection closes.
            _ = try? link.step(waitMs: 20)
            return .success((answer, link.codec.statistics.chunksResumed))
        }
    }
}
