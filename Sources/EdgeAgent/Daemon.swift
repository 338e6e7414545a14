// The daemon's state and loop (options parsed in DaemonCommand.swift): one prepared session serving
// batches, the selector, the patch store behind a SerialPatchService, and the uplink or outbox.
import EdgeRuntime

final class Daemon {
    let options: DaemonOptions
    let model: Model
    let store: PatchStore
    let service: SerialPatchService
    let session: Session
    let stream: ImageStream
    let labels: [UInt8]?
    let classes: Int
    /// One frame's shape [C, H, W] and its bytes.
    let frameDims: [Int]
    let frameBytes: Int
    var selector: SampleSelector
    let uplink: CloudUplink?
    /// A new value at every start, so the cloud accepts upload sequences that begin again at 0.
    let session64: UInt64
    var sequence: UInt64 = 0
    var served = 0, correct = 0, labelled = 0, uploaded = 0, refused = 0
    /// Sequence of the last upload the cloud answered.
    var answered: UInt64?

    init?(_ o: DaemonOptions) {
        options = o
        let sessionID = Platform.monotonicNanoseconds() ^ 0x5EED_CE4A
        session64 = sessionID
        guard let verifier = loadVerifier(o.keyPath) else { return nil }
        do {
            store = try PatchStore(directory: o.store)
            guard let (m, state) = try restoredModel(o.modelPath, store: store, precision: o.precision) else { return nil }
            model = m
            print("edge-agent: \(o.modelPath): \((o.precision ?? m.nativePrecision).rawValue), parameters \(state.slot.name), version \(state.version)")
        } catch {
            printError("edge-agent: \(error.description)")
            return nil
        }
        service = SerialPatchService(store: store, verifier: verifier, model: model)
        do { session = try model.prepare(batch: o.batch) } catch {
            printError("edge-agent: \(o.modelPath): \(error.description)")
            return nil
        }
        let shape = session.inputShapes[0]
        guard session.inputTypes[0] == .float32, shape.count == 4, session.outputShapes[0].count == 2 else {
            printError("edge-agent: \(o.modelPath) takes \(describeShape(shape)); the daemon serves [N, C, H, W] image models with [N, classes] output")
            return nil
        }
        frameDims = [shape[1], shape[2], shape[3]]
        frameBytes = shape[1] * shape[2] * shape[3]
        classes = session.outputShapes[0][1]
        if classes < 2 {
            printError("edge-agent: \(o.modelPath) has \(classes) output class(es); selection needs at least 2")
            return nil
        }
        selector = SampleSelector(classes: classes)
        do {
            stream = try ImageStream(path: o.frames, rows: shape[1] * shape[2], columns: shape[3])
            if let path = o.labels { labels = try IDXFile.labels(path) } else { labels = nil }
        } catch {
            printError("edge-agent: \(error.description)")
            return nil
        }
        if let labels, case .idx(_, let count) = stream.source, labels.count != count {
            printError("edge-agent: \(ImageStreamError.labelsMismatch(images: count, labels: labels.count).description)")
            return nil
        }
        if let address = o.cloud {
            var config = UplinkConfig(address: address)
            config.backoff = o.backoff
            config.connectTimeoutMs = o.connectTimeoutMs
            uplink = CloudUplink(config, seed: sessionID)
        } else {
            uplink = nil
            for dir in [o.outbox, o.inbox] {
                guard let dir else { continue }
                do { try makeDirectory(dir) } catch {
                    printError("edge-agent: \(error.description)")
                    return nil
                }
            }
        }
    }

    var hello: CloudMessage {
        .hello(deviceID: options.deviceID, session: session64, modelSHA256: model.modelSHA256,
               version: model.version, highestAccepted: store.highestAccepted)
    }

    func run() -> Int32 {
        var pixels: [UInt8] = []
        pixels.reserveCapacity(options.batch * frameBytes)
        var batches = 0
        while true {
            pixels.removeAll(keepingCapacity: true)
            var n = 0
            while n < options.batch && !stream.finished {
                let got: Int
                do { got = try stream.next(options.batch - n, into: &pixels) } catch {
                    printError("edge-agent: \(error.description)")
                    return 1
                }
                n += got
                if got == 0 { exchange(waitMs: 0) }   // stdin idle: keep the link alive meanwhile
            }
            if n == 0 { break }
            let first = served
            let logits = infer(pixels, count: n)
            // Frames past the end of the labels (a stdin or directory stream longer than them) are served
            // but not scored.
            var right = 0, scored = 0
            if let labels {
                scored = max(0, min(n, labels.count - first))
                for i in 0..<scored where argmax(logits, i) == Int(labels[first + i]) { right += 1 }
                correct += right
                labelled += scored
            }
            served += n
            batches += 1
            let sent = select(logits, pixels, count: n)
            exchange(waitMs: 0)
            if options.syncMs > 0 && uplink != nil { awaitAnswer(sequence - 1) }
            installInbox()
            if !options.quiet {
                var line = "batch \(batches) frames \(served)"
                if labels != nil { line += " accuracy \(percent(right, scored))" }
                line += " uploaded \(sent) version \(model.version)"
                if let uplink { line += uplink.isConnected ? " cloud up" : " cloud down (\(uplink.queuedUploads) queued)" }
                print(line)
            }
        }
        finish()
        var summary = "edge-agent: served \(served) frames in \(batches) batches"
        if labels != nil { summary += ", accuracy \(percent(correct, labelled))" }
        summary += ", uploaded \(uploaded) samples, patches installed \(service.installed), refused \(refused), version \(model.version)"
        if let s = uplink?.statistics {
            summary += ", connections \(s.connects) (lost \(s.connectionsLost)), uploads dropped \(s.uploadsDropped)"
        }
        print(summary)
        return 0
    }

    /// Logits [batch, classes] for the first `count` frames (the rest of the batch is zero padding).
    func infer(_ pixels: [UInt8], count: Int) -> UnsafePointer<Float> {
        let input = session.inputPointer(0).assumingMemoryBound(to: Float.self)
        let total = options.batch * frameBytes
        for i in 0..<pixels.count { input[i] = Float(pixels[i]) * (1 / 255) }
        for i in pixels.count..<total { input[i] = 0 }
        session.run()
        return UnsafePointer(session.outputView(0).f32)
    }

    func argmax(_ logits: UnsafePointer<Float>, _ i: Int) -> Int {
        let row = logits + i * classes
        var best = 0
        for c in 1..<classes where row[c] > row[best] { best = c }
        return best
    }

    /// Runs the selector and hands the chosen frames on (cloud or outbox); returns how many were chosen.
    /// Every batch produces an upload, empty or not: the cloud runs its replay steps on empty ones.
    func select(_ logits: UnsafePointer<Float>, _ pixels: [UInt8], count: Int) -> Int {
        var chosen: [Bool] = [], entropy: [Float] = []
        selector.select(logits: logits, count: count, selected: &chosen, entropy: &entropy)
        let size = frameBytes
        var samples: [UploadSample] = []
        for i in 0..<count where chosen[i] {
            samples.append(UploadSample(dims: frameDims, pixels: Array(pixels[(i * size)..<((i + 1) * size)]), entropy: entropy[i]))
        }
        uploaded += samples.count
        guard let bytes = UploadEncoder.encode(deviceID: options.deviceID, sequence: sequence, samples: samples,
                                               counters: selector.counters) else {
            printError("edge-agent: cannot encode upload \(sequence) (out of memory)")
            return 0
        }
        if let uplink {
            uplink.upload(sequence: sequence, batch: bytes)
        } else if let outbox = options.outbox, !samples.isEmpty {
            let name = outbox + "/upload-" + zeroPadded(sequence, 10) + ".pb"
            do { try writeFileAtomically(name, bytes) } catch { printError("edge-agent: outbox: \(error.description)") }
        }
        sequence += 1
        return samples.count
    }

    /// Moves bytes on the uplink and installs the patches that came.
    func exchange(waitMs: Int) {
        guard let uplink else { return }
        for event in uplink.poll(waitMs: waitMs, hello: hello) {
            switch event {
            case .connected(let peer): print("edge-agent: cloud \(peer) connected")
            case .unavailable(let reason, let retry): printError("edge-agent: cloud unavailable (\(reason)); next attempt in \(retry) ms")
            case .refused(let reason): printError("edge-agent: the cloud refused this device: \(reason)")
            case .dropped(let n): printError("edge-agent: cloud away too long: \(n) oldest upload(s) dropped")
            case .noPatch(let s): answered = s
            case .patch(let s, let bytes):
                answered = s
                install(bytes, from: "cloud")
            }
        }
    }

    /// Verifies, stores and applies one patch (SerialPatchService: signature, model, version, values,
    /// then the A/B store); the prepared session sees the new parameters at its next run.
    func install(_ bytes: [UInt8], from origin: String) {
        let reply = service.handle(bytes)
        var installed = false
        var detail = ""
        switch reply {
        case .installed(let v):
            installed = true
            detail = "installed \(v)"
            if !options.quiet { print("edge-agent: patch from \(origin) installed, version \(v)") }
        case .alreadyApplied(let v, let h):
            detail = "version \(v) is not above \(h)"
            printError("edge-agent: patch from \(origin) to version \(v) already applied; ignored")
        case .refused(let reason):
            refused += 1
            detail = reason
            printError("edge-agent: patch from \(origin) refused: \(reason)")
        }
        uplink?.sendIfConnected(.patchResult(installed: installed, version: model.version,
                                             highestAccepted: store.highestAccepted, detail: detail))
    }

    /// Lockstep with the cloud (--sync-ms): wait for its answer to upload `s`, or until the time is up or
    /// the connection is gone.
    func awaitAnswer(_ s: UInt64) {
        let start = Platform.monotonicNanoseconds()
        while answered.map({ $0 < s }) ?? true {
            guard let uplink, uplink.isConnected else { return }
            if Int((Platform.monotonicNanoseconds() - start) / 1_000_000) > options.syncMs { return }
            exchange(waitMs: 20)
        }
    }

    /// Patches dropped into --inbox (by a serial or USB transfer) are installed between batches and renamed
    /// NAME.installed or NAME.refused, so none is handled twice.
    func installInbox() {
        guard let inbox = options.inbox else { return }
        for name in listDirectory(inbox) where !name.hasSuffix(".installed") && !name.hasSuffix(".refused") && !name.hasSuffix(".partial") {
            let path = inbox + "/" + name
            let bytes: [UInt8]
            do { bytes = try readFile(path) } catch { continue }
            let before = service.installed
            install(bytes, from: path)
            do { try moveFile(path, to: path + (service.installed > before ? ".installed" : ".refused")) } catch {
                printError("edge-agent: inbox: \(error.description)")
            }
        }
    }

    /// At the end of the stream: hand the cloud what is still queued (up to 2 s) and, in lockstep, wait
    /// for its answer to the last batch.
    func finish() {
        guard let uplink, sequence > 0 else { return }
        let start = Platform.monotonicNanoseconds()
        while uplink.isConnected && uplink.queuedUploads > 0 && Platform.monotonicNanoseconds() - start < 2_000_000_000 {
            exchange(waitMs: 20)
        }
        if options.syncMs > 0 { awaitAnswer(sequence - 1) }
        exchange(waitMs: 50)
    }
}

func percent(_ part: Int, _ whole: Int) -> String {
    guard whole > 0 else { return "-" }
    let hundredths = (part * 10_000 + whole / 2) / whole
    return "\(hundredths / 100).\(zeroPadded(UInt64(hundredths % 100), 2))%"
}

func zeroPadded(_ v: UInt64, _ width: Int) -> String {
    var s = "\(v)"
    while s.count < width { s = "0" + s }
    return s
}
