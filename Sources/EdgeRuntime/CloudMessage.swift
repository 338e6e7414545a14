// The messages between a board's `edge-agent daemon` and `cema serve`, each carried whole by the frame
// codec (which already checks, orders and de-duplicates them). Wire form: 0xCE, a type byte, then the
// fields in order; integers little-endian, byte strings as a u32 length and the bytes.
//
//   1 hello        device id, session (new at each daemon start, so upload sequences may   agent -> cloud
//                  restart), model SHA-256, active version, highest version accepted
//   2 upload       sequence, UploadBatch bytes (one per served batch, possibly no samples)  agent -> cloud
//   3 patch        sequence of the upload it answers, signed ParameterPatch bytes          cloud -> agent
//   4 noPatch      sequence of the upload it answers (the cloud step changed nothing)     cloud -> agent
//   5 patchResult  installed (1/0), version now active, highest accepted, detail text     agent -> cloud
//   6 refused      reason (another model, a malformed hello); the cloud then hangs up     cloud -> agent

public enum CloudMessage: Equatable {
    case hello(deviceID: String, session: UInt64, modelSHA256: [UInt8], version: UInt64, highestAccepted: UInt64)
    case upload(sequence: UInt64, batch: [UInt8])
    case patch(sequence: UInt64, patch: [UInt8])
    case noPatch(sequence: UInt64)
    case patchResult(installed: Bool, version: UInt64, highestAccepted: UInt64, detail: String)
    case refused(reason: String)

    static let magic: UInt8 = 0xCE

    public var name: String {
        switch self {
        case .hello: return "hello"
        case .upload: return "upload"
        case .patch: return "patch"
        case .noPatch: return "no-patch"
        case .patchResult: return "patch result"
        case .refused: return "refused"
        }
    }

    public func encoded() -> [UInt8] {
        var w = MessageWriter()
        switch self {
        case .hello(let id, let session, let sha, let version, let highest):
            w.header(1); w.bytes(Array(id.utf8)); w.u64(session); w.bytes(sha); w.u64(version); w.u64(highest)
        case .upload(let sequence, let batch):
            w.header(2); w.u64(sequence); w.bytes(batch)
        case .patch(let sequence, let patch):
            w.header(3); w.u64(sequence); w.bytes(patch)
        case .noPatch(let sequence):
            w.header(4); w.u64(sequence)
        case .patchResult(let installed, let version, let highest, let detail):
            w.header(5); w.out.append(installed ? 1 : 0); w.u64(version); w.u64(highest); w.bytes(Array(detail.utf8))
        case .refused(let reason):
            w.header(6); w.bytes(Array(reason.utf8))
        }
        return w.out
    }

    public static func decode(_ bytes: [UInt8]) throws(NetworkError) -> CloudMessage {
        var r = MessageReader(data: bytes)
        guard bytes.count >= 2, bytes[0] == magic else { throw .badMessage(reason: "not a CEMA cloud message (no 0xCE header byte)") }
        r.at = 2
        let message: CloudMessage
        switch bytes[1] {
        case 1:
            let id = try r.text(), session = try r.u64(), sha = try r.field(), version = try r.u64(), highest = try r.u64()
            message = .hello(deviceID: id, session: session, modelSHA256: sha, version: version, highestAccepted: highest)
        case 2: message = .upload(sequence: try r.u64(), batch: try r.field())
        case 3: message = .patch(sequence: try r.u64(), patch: try r.field())
        case 4: message = .noPatch(sequence: try r.u64())
        case 5:
            let flag = try r.byte()
            if flag > 1 { throw .badMessage(reason: "patch result flag \(flag) is not 0 or 1") }
            let version = try r.u64(), highest = try r.u64(), detail = try r.text()
            message = .patchResult(installed: flag == 1, version: version, highestAccepted: highest, detail: detail)
        case 6: message = .refused(reason: try r.text())
        default: throw .badMessage(reason: "unknown cloud message type \(bytes[1])")
        }
        if r.at != bytes.count { throw .badMessage(reason: "\(bytes.count - r.at) bytes after the \(message.name) message") }
        return message
    }
}

private struct MessageWriter {
    var out: [UInt8] = []

    mutating func header(_ type: UInt8) { out.append(CloudMessage.magic); out.append(type) }

    mutating func u64(_ v: UInt64) {
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) }
    }

    mutating func bytes(_ b: [UInt8]) {
        appendLE32(&out, UInt32(b.count))
        out.append(contentsOf: b)
    }
}

private struct MessageReader {
    let data: [UInt8]
    var at = 0

    mutating func byte() throws(NetworkError) -> UInt8 {
        guard at < data.count else { throw .badMessage(reason: "message cut short") }
        at += 1
        return data[at - 1]
    }

    mutating func u64() throws(NetworkError) -> UInt64 {
        guard at + 8 <= data.count else { throw .badMessage(reason: "message cut short") }
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(data[at + k]) << (8 * UInt64(k)) }
        at += 8
        return v
    }

    mutating func field() throws(NetworkError) -> [UInt8] {
        guard at + 4 <= data.count else { throw .badMessage(reason: "message cut short") }
        let n = Int(readLE32(data, at))
        at += 4
        guard n <= data.count - at else { throw .badMessage(reason: "a field of \(n) bytes runs past the message's end") }
        at += n
        return Array(data[(at - n)..<at])
    }

    mutating func text() throws(NetworkError) -> String {
        String(decoding: try field(), as: UTF8.self)
    }
}
