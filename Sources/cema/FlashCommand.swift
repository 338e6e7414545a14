// `cema flash --serial DEVICE [--baud N] PATCH`: sends a signed patch to a board's `edge-agent serve`
// over a serial line (FrameCodec framing) and reports the board's answer.
import ArgumentParser
import EdgeRuntime
import Foundation

struct FlashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flash",
        abstract: "Send a signed patch to a board over a serial line; the board verifies, stores and applies it.")

    @Argument(help: "Signed patch file (cema patch sign).") var patch: String
    @Option(help: "Serial device, e.g. /dev/ttyUSB0.") var serial: String
    @Option(help: "Baud rate.") var baud: UInt32 = 115200
    @Option(help: "Payload bytes per frame.") var chunkSize: Int = 512
    @Option(help: "Milliseconds to wait for the board's answer to one attempt.") var timeoutMs: Int = 10_000
    @Option(help: "Attempts before giving up (a retry of a patch already applied is answered as such).")
    var attempts: Int = 3

    func run() throws {
        let bytes: [UInt8]
        do { bytes = try readFile(patch) } catch { fail("\(error)") }
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
}
