// The board's side of `cema flash --serial`: each message delivered over the link is a signed patch; it is
// verified, stored and applied by the PatchStore and answered with one reply message. A reply names the
// CRC32 of the request it answers, so a late reply to an earlier attempt is never taken for the answer to
// a later request. A repeated patch is refused by the version counter ("already applied"), so none is
// applied twice even when the flashing host retries after losing a reply.

/// What the board says about one patch. Wire form (ASCII): "<crc32 hex of the request> <word> <text>".
public enum SerialPatchReply: Equatable {
    case installed(version: UInt64)
    /// The patch's version is not above the highest accepted: applied before (or a replay).
    case alreadyApplied(version: UInt64, highestAccepted: UInt64)
    case refused(reason: String)

    public func encoded(request: [UInt8]) -> [UInt8] {
        let tag = CRC32.hex(CRC32.checksum(request))
        switch self {
        case .installed(let v): return Array("\(tag) installed \(v)".utf8)
        case .alreadyApplied(let v, let h): return Array("\(tag) already-applied \(v) \(h)".utf8)
        case .refused(let reason): return Array("\(tag) refused \(reason)".utf8)
        }
    }

    /// The reply in `bytes` if it answers `request`; nil for a reply to another request or garbage.
    public static func decode(_ bytes: [UInt8], request: [UInt8]) -> SerialPatchReply? {
        let tag = Array(CRC32.hex(CRC32.checksum(request)).utf8)
        guard bytes.count > tag.count + 1, Array(bytes[0..<tag.count]) == tag, bytes[tag.count] == 0x20 else { return nil }
        let words = String(decoding: bytes[(tag.count + 1)...], as: UTF8.self)
        let parts = words.split(separator: " ", maxSplits: 1)
        guard let word = parts.first else { return nil }
        let rest = parts.count > 1 ? String(parts[1]) : ""
        switch word {
        case "installed":
            guard let v = UInt64(rest) else { return nil }
            return .installed(version: v)
        case "already-applied":
            let numbers = rest.split(separator: " ")
            guard numbers.count == 2, let v = UInt64(numbers[0]), let h = UInt64(numbers[1]) else { return nil }
            return .alreadyApplied(version: v, highestAccepted: h)
        case "refused": return .refused(reason: rest)
        default: return nil
        }
    }
}

public final class SerialPatchService {
    public let store: PatchStore
    public let verifier: SignatureVerifier
    public let model: Model
    /// Patches installed by this service since it started.
    public private(set) var installed = 0

    public init(store: PatchStore, verifier: SignatureVerifier, model: Model) {
        self.store = store
        self.verifier = verifier
        self.model = model
    }

    /// What to answer to one delivered message.
    public func handle(_ message: [UInt8]) -> SerialPatchReply {
        do {
            let version = try store.install(patchBytes: message, verifier: verifier, model: model)
            installed += 1
            return .installed(version: version)
        } catch {
            if case .staleVersion(let got, let highest) = error { return .alreadyApplied(version: got, highestAccepted: highest) }
            return .refused(reason: error.description)
        }
    }

    /// One step of the link; each delivered message is handled and its reply queued. Returns the replies.
    @discardableResult
    public func serve(_ link: inout SerialLink, waitMs: Int) throws(SerialError) -> [SerialPatchReply] {
        var replies: [SerialPatchReply] = []
        for event in try link.step(waitMs: waitMs) {
            guard case .delivered(_, let message) = event else { continue }
            let reply = handle(message)
            replies.append(reply)
            do { try link.codec.send(reply.encoded(request: message)) } catch { throw .transfer(error) }
        }
        return replies
    }
}
