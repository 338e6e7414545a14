// libFuzzer target for the frame layer: bytes into FrameParser and a FrameCodec, raw or with the CRCs
// repaired so mutations reach the codec's state machine. Crashes, traps and broken invariants are bugs.
// Entered through FuzzEntry.swift; built with the EdgeRuntime sources in one module by Tests/Fuzz/run.sh.

func frameFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let mode = data[0]
    var bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if mode & 1 == 1 { bytes = repairCRCs(bytes) }
    let config = FrameCodecConfiguration(chunkSize: 64, maxFramePayload: 128, maxMessageBytes: 1024,
                                         retransmitAfterMs: 10, maxAttempts: 3)
    guard var codec = try? FrameCodec(config) else { fatalError("configuration refused") }
    if mode & 2 == 2 { _ = try? codec.send(Array(bytes.prefix(300))) }
    // Fed in pieces, as a serial port would deliver it, with time passing in between.
    var i = 0
    var piece = Int(mode >> 2) + 1
    while i < bytes.count {
        let n = min(piece, bytes.count - i)
        codec.receive(Array(bytes[i..<(i + n)]))
        codec.tick(elapsedMs: 5)
        i += n
        piece = piece * 3 % 61 + 1
    }
    for event in codec.takeEvents() {
        if case .delivered(_, let message) = event, message.count > config.maxMessageBytes {
            fatalError("delivered a message over the limit")
        }
    }
    // Everything the codec sends must itself parse as frames, with nothing skipped.
    var parser = FrameParser(maxPayload: Frame.largestPayload)
    parser.append(codec.takeOutput())
    while let result = parser.next() {
        if case .skipped(let error) = result { fatalError("the codec emitted a damaged frame: \(error)") }
    }
    if parser.skippedBytes != 0 { fatalError("the codec emitted bytes outside frames") }
    return 0
}

/// Treats the input as back-to-back frames (header with a length, payload) and writes correct header and
/// frame CRCs and sync bytes, so the fuzzer's mutations of ids, counts and lengths get past the checks.
func repairCRCs(_ input: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while i + 26 <= input.count {
        var header = Array(input[i..<(i + 26)])
        header[0] = Frame.sync0
        header[1] = Frame.sync1
        let length = min(Int(header[24]) | Int(header[25]) << 8, input.count - i - 26)
        header[24] = UInt8(truncatingIfNeeded: length)
        header[25] = UInt8(truncatingIfNeeded: length >> 8)
        var frame = header
        appendLE32(&frame, CRC32.checksum(header))
        frame += input[(i + 26)..<(i + 26 + length)]
        appendLE32(&frame, CRC32.checksum(frame))
        out += frame
        i += 26 + length
    }
    return out
}
