// `cema serve`'s engine: a TCP listener for boards' `edge-agent daemon`, one CloudAdapter per device id
// (kept across reconnects), and the CloudMessage protocol over the project's frame codec. One thread
// polls every connection in turn: the cloud step dominates the time, and a single loop keeps each device's
// uploads, steps and patches strictly in order.
import EdgeRuntime
import Foundation
import SwiftProtobuf

public struct CloudServiceConfig {
    public var edgeModel: [UInt8]
    public var foundationModel: [UInt8]
    public var signingKey: PatchSigningKey
    public var cema = CEMAConfig()
    public var steps = CloudStepConfig()
    public var seed: UInt64 = 0
    /// Other files boards may run instead of `edgeModel` (int8 QDQ models made from it): a board running
    /// one is adapted on `edgeModel` and its patches name that file.
    public var deployedModels: [[UInt8]] = []

    public init(edgeModel: [UInt8], foundationModel: [UInt8], signingKey: PatchSigningKey) {
        self.edgeModel = edgeModel
        self.foundationModel = foundationModel
        self.signingKey = signingKey
    }
}

public struct CloudServiceStatistics: Equatable {
    public var connections = 0
    public var uploads = 0
    public var duplicateUploads = 0
    public var samples = 0
    public var patchesSent = 0
    public var patchesInstalled = 0
    public var patchesRefused = 0
    public var refusedDevices = 0
}

public final class CloudService {
    public let config: CloudServiceConfig
    public let listener: TCPListener
    public private(set) var statistics = CloudServiceStatistics()
    /// Where progress lines go (stdout for `cema serve`; tests collect them).
    public var log: (String) -> Void = { print($0) }

    private let modelSHA256: [UInt8]
    private var connections: [Connection] = []
    private var devices: [String: Device] = [:]

    /// One board's state, which outlives its connections.
    final class Device {
        let adapter: CloudAdapter
        /// The daemon run whose upload sequences `lastSequence` counts.
        var session: UInt64 = 0
        var lastSequence: UInt64?
        /// The version the board will be at once it installed everything sent: the base of the next patch.
        var expectedVersion: UInt64 = 0
        /// Versions must grow past anything the board ever accepted, also after a cloud restart.
        var nextVersion: UInt64 = 1
        /// Sequence numbers fed to the adapter, which wants them increasing for the device's lifetime.
        var adapterSequence: UInt64 = 0

        init(adapter: CloudAdapter) { self.adapter = adapter }
    }

    struct Connection {
        var link: TCPLink
        var deviceID: String?
        /// Set after a refusal: the connection is dropped once the refusal was acknowledged.
        var closing = false
    }

    /// Loads the models (the CloudAdapter checks them per device) and listens on `address`.
    public init(_ config: CloudServiceConfig, listenOn address: TCPAddress) throws(NetworkError) {
        self.config = config
        modelSHA256 = SHA256.digest(config.edgeModel)
        listener = try TCPListener(address: address)
    }

    public var deviceIDs: [String] { devices.keys.sorted() }
    public func version(of device: String) -> UInt64? { devices[device]?.expectedVersion }

    /// Serves until `stop` says so (checked between steps).
    public func run(until stop: () -> Bool = { false }) {
        while !stop() { step(waitMs: 20) }
    }

    /// One round: accept a waiting board, then move every connection one step.
    public func step(waitMs: Int) {
        do {
            if let c = try listener.accept(timeoutMs: connections.isEmpty ? waitMs : 0) {
                do {
                    connections.append(Connection(link: TCPLink(connection: c, codec: try FrameCodec(tcpFrameConfiguration()))))
                    statistics.connections += 1
                    log("connection from \(c.peer)")
                } catch { log("cannot start a frame codec: \(error)") }
            }
        } catch { log("accept: \(error)") }
        var k = 0
        while k < connections.count {
            let wait = connections.count == 1 ? waitMs : 0
            if serve(&connections[k], waitMs: wait) { k += 1 } else { connections.remove(at: k) }
        }
    }

    /// Steps one connection; false when it is finished.
    private func serve(_ c: inout Connection, waitMs: Int) -> Bool {
        let peer = c.link.connection.peer
        do {
            for event in try c.link.step(waitMs: waitMs) {
                switch event {
                case .delivered(_, let bytes):
                    let message: CloudMessage
                    do { message = try CloudMessage.decode(bytes) } catch {
                        log("\(peer): \(error)")
                        continue
                    }
                    for answer in handle(message, on: &c, peer: peer) {
                        do { try c.link.codec.send(answer.encoded()) } catch { log("\(peer): cannot send \(answer.name): \(error)") }
                    }
                case .failed(_, let error):
                    log("\(peer): \(error); dropping the connection")
                    return false
                case .sent: break
                }
            }
        } catch {
            log("\(c.deviceID ?? peer): \(error.losesConnection ? "connection lost (\(error))" : "\(error)")")
            return false
        }
        return !(c.closing && !c.link.codec.isSending)
    }

    /// What to answer to one message from a board.
    private func handle(_ message: CloudMessage, on c: inout Connection, peer: String) -> [CloudMessage] {
        switch message {
        case .hello(let id, let session, let sha, let version, let highest):
            let deployed = config.deployedModels.first { SHA256.digest($0) == sha }
            if sha != modelSHA256 && deployed == nil {
                statistics.refusedDevices += 1
                c.closing = true
                let reason = "this cloud adapts model \(SHA256.hex(modelSHA256)), the device runs \(SHA256.hex(sha))"
                log("\(id) (\(peer)): refused: \(reason)")
                return [.refused(reason: reason)]
            }
            if id.isEmpty {
                c.closing = true
                return [.refused(reason: "the hello carries no device id")]
            }
            let device: Device
            if let d = devices[id], d.adapter.modelSHA256 != sha {
                // Its cloud state and patch versions belong to the other file.
                c.closing = true
                return [.refused(reason: "device \(id) ran model \(SHA256.hex(d.adapter.modelSHA256)) before, now \(SHA256.hex(sha))")]
            }
            if let d = devices[id] { device = d } else {
                do {
                    let adapter = try CloudAdapter(edgeModel: config.edgeModel, foundationModel: config.foundationModel,
                                                   config: config.cema, steps: config.steps, seed: config.seed &+ UInt64(devices.count),
                                                   deployedModel: deployed)
                    device = Device(adapter: adapter)
                    devices[id] = device
                } catch {
                    c.closing = true
                    log("\(id): cannot set up its cloud model: \(error)")
                    return [.refused(reason: "the cloud cannot set up a model for this device: \(error)")]
                }
            }
            if device.session != session {
                device.session = session
                device.lastSequence = nil
            }
            device.expectedVersion = version
            device.nextVersion = max(device.nextVersion, highest + 1, version + 1)
            c.deviceID = id
            log("\(id) (\(peer)): hello, parameters version \(version), accepts versions above \(highest)")
            return []
        case .upload(let sequence, let batch):
            guard let id = c.deviceID, let device = devices[id] else {
                c.closing = true
                return [.refused(reason: "an upload before the hello")]
            }
            statistics.uploads += 1
            if let last = device.lastSequence, sequence <= last {
                // A retransmission after a reconnect: its samples are in already.
                statistics.duplicateUploads += 1
                return [.noPatch(sequence: sequence)]
            }
            device.lastSequence = sequence
            return [cloudStep(device, id: id, sequence: sequence, batch: batch)]
        case .patchResult(let installed, let version, let highest, let detail):
            guard let id = c.deviceID, let device = devices[id] else { return [] }
            if installed {
                statistics.patchesInstalled += 1
            } else {
                // The board is not where the cloud thought: the next patch starts from where it is.
                statistics.patchesRefused += 1
                device.expectedVersion = version
                device.nextVersion = max(device.nextVersion, highest + 1)
                log("\(id): patch not installed (\(detail)); the board is at version \(version)")
            }
            return []
        case .patch, .noPatch, .refused:
            log("\(peer): a \(message.name) message, which only the cloud sends; ignored")
            return []
        }
    }

    /// Feeds one upload to the device's adapter, runs the steps due, and signs the patch that results.
    private func cloudStep(_ device: Device, id: String, sequence: UInt64, batch: [UInt8]) -> CloudMessage {
        do {
            var upload = try Cema_UploadBatch(serializedBytes: batch)
            device.adapterSequence += 1
            upload.sequence = device.adapterSequence
            let samples = try device.adapter.receive(upload: try upload.serializedBytes())
            statistics.samples += samples
        } catch {
            log("\(id): upload \(sequence) skipped: \(error)")
            return .noPatch(sequence: sequence)
        }
        do {
            guard let unsigned = try device.adapter.finishEdgeBatch(createdUnixMs: UInt64(Date().timeIntervalSince1970 * 1000)) else {
                return .noPatch(sequence: sequence)
            }
            // The adapter numbers its patches from its own start; every patch carries all the normalization
            // parameters, so it is re-based onto the version the board will be at, and numbered above
            // anything the board accepted, before it is signed.
            var patch = try Cema_ParameterPatch(serializedBytes: unsigned)
            patch.baseVersion = device.expectedVersion
            patch.newVersion = device.nextVersion
            let signed = try PatchSigner.sign(patchBytes: try patch.serializedBytes(), with: config.signingKey)
            device.expectedVersion = device.nextVersion
            device.nextVersion += 1
            statistics.patchesSent += 1
            let r = device.adapter.records.last
            log("\(id): upload \(sequence): cloud step on \(r?.samples ?? 0) samples, patch to version \(patch.newVersion) (\(signed.count) bytes)")
            return .patch(sequence: sequence, patch: signed)
        } catch {
            log("\(id): cloud step after upload \(sequence) failed: \(error)")
            return .noPatch(sequence: sequence)
        }
    }
}
