// `cema serve`: the cloud side of the network mode. Boards running `edge-agent daemon --cloud HOST:PORT`
// connect, upload their selected samples, and get a signed patch back after each cloud edge step.
import ArgumentParser
import CloudTrainer
import EdgeRuntime
import Foundation

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve boards over TCP: take their UploadBatch messages, run CEMA's cloud step per device, send signed patches back.")

    @Option(help: "Signing key (cema keygen); the boards hold KEY.pub.") var key: String
    @Option(help: "TCP port to listen on (0: any free port, printed at start).") var port: Int = 7070
    @Option(help: "Address to listen on.") var host = "0.0.0.0"
    @Option(help: "Edge model (the boards' model; its SHA-256 must match theirs, or theirs a --deployed file's).") var edge = "models/edge.onnx"
    @Option(help: "A QDQ (cema quantize) or fp16 file of --edge that boards may run instead (repeatable): they are adapted on --edge and their patches name this file.")
    var deployed: [String] = []
    @Option(help: "Foundation (teacher) model.") var foundation = "models/foundation.onnx"
    @Option(help: "Seed of the replay draws.") var seed: UInt64 = 0
    @Option(help: "Stop after this many seconds (tests; default: run until killed).") var seconds: Double?
    @Option(help: "Write the port in use to this file once listening (for scripts that pass --port 0).")
    var portFile: String?

    func run() throws {
        guard (0...65535).contains(port) else { fail("--port \(port) is not in 0...65535") }
        let signingKey: PatchSigningKey
        do { signingKey = try PatchSigningKey(keyFile: try readFile(key)) } catch { fail("\(key): \(error)") }
        let edgeBytes: [UInt8], foundationBytes: [UInt8]
        do {
            edgeBytes = try readFile(edge)
            foundationBytes = try readFile(foundation)
        } catch { fail("\(error)") }
        // Fails here, with the reason, rather than at the first device's hello.
        do { _ = try CloudAdapter(edgeModel: edgeBytes, foundationModel: foundationBytes) } catch { fail("\(error)") }
        var config = CloudServiceConfig(edgeModel: edgeBytes, foundationModel: foundationBytes, signingKey: signingKey)
        for path in deployed {
            do {
                let bytes = try readFile(path)
                try CloudAdapter.checkDeployed(bytes, student: try ModelLoader.load(bytes: edgeBytes))
                config.deployedModels.append(bytes)
            } catch { fail("--deployed \(path): \(error)") }
        }
        config.seed = seed
        let service: CloudService
        do { service = try CloudService(config, listenOn: TCPAddress(host: host, port: UInt16(port))) } catch { fail("\(error)") }
        print("cema serve: listening on \(host):\(service.listener.port); edge model \(edge) (\(SHA256.hex(SHA256.digest(edgeBytes)).prefix(16))...), foundation \(foundation)"
              + deployed.enumerated().map { k, path in "; also boards running \(path) (\(SHA256.hex(SHA256.digest(config.deployedModels[k])).prefix(16))...)" }.joined())
        if let portFile {
            do { try writeFileAtomically(portFile, Array("\(service.listener.port)\n".utf8)) } catch { fail("\(error)") }
        }
        setvbuf(stdout, nil, _IOLBF, 0)
        service.log = { print("cema serve: \($0)") }
        let deadline = seconds.map { Date().addingTimeInterval($0) }
        service.run(until: { deadline.map { Date() >= $0 } ?? false })
        let s = service.statistics
        print("cema serve: \(s.connections) connections, \(s.uploads) uploads (\(s.duplicateUploads) repeated), \(s.samples) samples, "
            + "\(s.patchesSent) patches sent, \(s.patchesInstalled) installed, \(s.patchesRefused) not installed")
    }
}
