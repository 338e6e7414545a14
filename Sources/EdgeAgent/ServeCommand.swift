// `edge-agent serve`: take signed patches from `cema flash` over a serial line (--serial) or TCP (--listen),
// verify, store and apply each, and answer each.
import EdgeRuntime

func serveCommand(_ args: [String]) -> Int32 {
    guard let parsed = Arguments(args, valued: ["--serial", "--listen", "--store", "--pubkey", "--baud", "--count"], flags: []),
          parsed.positional.count == 1, (parsed.options["--serial"] == nil) != (parsed.options["--listen"] == nil),
          let dir = parsed.options["--store"]?.last, let keyPath = parsed.options["--pubkey"]?.last else {
        printError("edge-agent serve: give MODEL (--serial DEVICE or --listen [HOST:]PORT) --store DIR --pubkey KEY.pub\n" + usage)
        return 2
    }
    guard let baud = UInt32(parsed.options["--baud"]?.last ?? "115200") else {
        printError("edge-agent serve: --baud takes a number")
        return 2
    }
    let limit = parsed.options["--count"]?.last.flatMap { Int($0) }
    guard let verifier = loadVerifier(keyPath) else { return 1 }
    let service: SerialPatchService
    let state: PatchStoreState
    do {
        let store = try PatchStore(directory: dir)
        guard let (model, restored) = try restoredModel(parsed.positional[0], store: store) else { return 1 }
        service = SerialPatchService(store: store, verifier: verifier, model: model)
        state = restored
    } catch {
        printError("edge-agent: \(error.description)")
        return 1
    }
    let parameters = "parameters: \(state.slot.name), version \(state.version)"
    if let listen = parsed.options["--listen"]?.last {
        print("edge-agent: \(parameters)")
        return serveTCP(service, listen: listen, limit: limit)
    }
    let device = parsed.options["--serial"]!.last!
    print("edge-agent: serving \(device) at \(baud) baud; \(parameters)")
    return serveSerial(service, device: device, baud: baud, limit: limit)
}

func report(_ reply: SerialPatchReply) {
    switch reply {
    case .installed(let v): print("edge-agent: patch installed, version \(v)")
    case .alreadyApplied(let v, _): print("edge-agent: patch to version \(v) already applied; not applied again")
    case .refused(let reason): printError("edge-agent: patch refused: \(reason)")
    }
}

/// Serves until `limit` patches were handled (forever without it).
func serveSerial(_ service: SerialPatchService, device: String, baud: UInt32, limit: Int?) -> Int32 {
    do {
        let port = try SerialPort(path: device, baud: baud)
        let config = FrameCodecConfiguration(chunkSize: 512, maxFramePayload: 1024, retransmitAfterMs: 200,
                                             maxAttempts: 10, firstMessageID: serialSessionMessageID())
        var link: SerialLink
        do { link = SerialLink(port: port, codec: try FrameCodec(config)) } catch {
            printError("edge-agent: \(error.description)")
            return 1
        }
        var handled = 0
        while limit == nil || handled < limit! || link.codec.isSending {
            for reply in try service.serve(&link, waitMs: 50) {
                handled += 1
                report(reply)
            }
        }
        return 0
    } catch {
        printError("edge-agent: \(device): \(error.description)")
        return 1
    }
}

/// One flashing host at a time. The frame codec outlives each connection, so a host that reconnects
/// after a drop resumes its patch at the last acknowledged chunk instead of starting over.
func serveTCP(_ service: SerialPatchService, listen: String, limit: Int?) -> Int32 {
    let listener: TCPListener
    var codec: FrameCodec
    do { listener = try TCPListener(address: try TCPAddress(parsing: listen, defaultHost: "0.0.0.0")) } catch {
        printError("edge-agent serve: \(error.description)")
        return 1
    }
    do { codec = try FrameCodec(tcpFrameConfiguration()) } catch {
        printError("edge-agent serve: \(error.description)")
        return 1
    }
    print("edge-agent: listening on \(listener.address) for cema flash --tcp")
    var handled = 0
    while limit == nil || handled < limit! || codec.isSending {
        let connection: TCPConnection
        do {
            guard let c = try listener.accept(timeoutMs: 1_000) else { continue }
            connection = c
        } catch {
            printError("edge-agent: \(error.description)")
            return 1
        }
        print("edge-agent: \(connection.peer) connected")
        var link = TCPLink(connection: connection, codec: codec)
        link.replaceConnection(connection)
        do { try serveConnection(service, &link, handled: &handled, limit: limit) } catch {
            print("edge-agent: \(connection.peer): \(error.description)")
        }
        codec = link.codec
    }
    return 0
}

/// Answers patches on one connection until the limit is reached or the connection fails.
func serveConnection(_ service: SerialPatchService, _ link: inout TCPLink, handled: inout Int, limit: Int?) throws(NetworkError) {
    while limit == nil || handled < limit! || link.codec.isSending {
        for event in try link.step(waitMs: 50) {
            guard case .delivered(_, let message) = event else { continue }
            let reply = service.handle(message)
            handled += 1
            report(reply)
            do { try link.codec.send(reply.encoded(request: message)) } catch { throw .transfer(error) }
        }
    }
    // Give the last reply a moment to be acknowledged before the listener closes.
    _ = try link.step(waitMs: 100)
}
