// The board's persistent connection to `cema serve`: connects (and reconnects with back-off) without ever
// blocking longer than one connect timeout, opens each connection with a hello, keeps uploads queued until
// the cloud's frame codec acknowledged them (bounded: the oldest go first when the cloud is away for long),
// and hands the cloud's answers to the caller. It never throws: a lost connection is an event, and the
// caller keeps serving frames.

public struct UplinkConfig {
    public var address: TCPAddress
    /// How long one connection attempt may block the daemon.
    public var connectTimeoutMs = 1_000
    public var backoff = BackoffConfig()
    /// Uploads kept while the cloud is unreachable; older ones are dropped (and counted).
    public var maxQueuedUploads = 64
    public var frames = tcpFrameConfiguration()

    public init(address: TCPAddress) { self.address = address }
}

public enum UplinkEvent: Equatable {
    case connected(peer: String)
    /// A connection attempt failed or a connection was lost; the next attempt is in `retryInMs`.
    case unavailable(reason: String, retryInMs: Int)
    case patch(sequence: UInt64, bytes: [UInt8])
    case noPatch(sequence: UInt64)
    /// The cloud turned this device away (another model); it hung up and is tried again later.
    case refused(reason: String)
    /// Uploads dropped because the queue was full while the cloud was away.
    case dropped(uploads: Int)
}

public struct UplinkStatistics: Equatable {
    public var connects = 0
    public var connectionsLost = 0
    public var uploadsQueued = 0
    public var uploadsAcknowledged = 0
    public var uploadsDropped = 0
    public var answersReceived = 0
}

public final class CloudUplink {
    public let config: UplinkConfig
    public private(set) var statistics = UplinkStatistics()
    private var link: TCPLink?
    private var backoff: ReconnectBackoff
    private var nextAttemptNs: UInt64 = 0
    /// Uploads not yet acknowledged by the cloud's codec, oldest first, with the codec id of their current
    /// transmission (nil until handed to a connection).
    private var queue: [(sequence: UInt64, message: [UInt8], messageID: UInt32?)] = []
    private var events: [UplinkEvent] = []

    public init(_ config: UplinkConfig, seed: UInt64 = 1) {
        self.config = config
        backoff = ReconnectBackoff(config.backoff, seed: seed)
    }

    public var isConnected: Bool { link != nil }
    public var queuedUploads: Int { queue.count }

    /// Queues one UploadBatch (the one for served batch `sequence`).
    public func upload(sequence: UInt64, batch: [UInt8]) {
        let message = CloudMessage.upload(sequence: sequence, batch: batch).encoded()
        queue.append((sequence, message, nil))
        statistics.uploadsQueued += 1
        if queue.count > config.maxQueuedUploads {
            let extra = queue.count - config.maxQueuedUploads
            queue.removeFirst(extra)
            statistics.uploadsDropped += extra
            events.append(.dropped(uploads: extra))
        }
        if link != nil { transmitQueued() }
    }

    /// Sends a message now if connected (patch results: the next hello repeats the version anyway).
    public func sendIfConnected(_ message: CloudMessage) {
        guard link != nil else { return }
        do { try link!.codec.send(message.encoded()) } catch { lose("cannot queue \(message.name): \(error.description)") }
    }

    /// One bounded step: connect when due (with `hello` as the first message), move bytes, collect answers.
    public func poll(waitMs: Int, hello: CloudMessage) -> [UplinkEvent] {
        if link == nil && Platform.monotonicNanoseconds() >= nextAttemptNs { connect(hello: hello) }
        if link != nil {
            do {
                for event in try link!.step(waitMs: waitMs) { handle(event) }
            } catch {
                lose(error.description)
            }
        } else if waitMs > 0 {
            sleepMilliseconds(min(waitMs, 50))
        }
        defer { events = [] }
        return events
    }

    /// Drops the connection now (tests; a daemon shutting down).
    public func disconnect() {
        link = nil
        for i in queue.indices { queue[i].messageID = nil }
    }

    private func connect(hello: CloudMessage) {
        var frames = config.frames
        frames.firstMessageID = serialSessionMessageID()
        var codec: FrameCodec
        do {
            codec = try FrameCodec(frames)
            try codec.send(hello.encoded())
        } catch {
            scheduleRetry(error.description)
            return
        }
        do {
            let connection = try TCPConnection(connectingTo: config.address, timeoutMs: config.connectTimeoutMs)
            var fresh = TCPLink(connection: connection, codec: codec)
            _ = try fresh.step(waitMs: 0)
            link = fresh
            statistics.connects += 1
            events.append(.connected(peer: connection.peer))
        } catch {
            link = nil
            scheduleRetry(error.description)
            return
        }
        for i in queue.indices { queue[i].messageID = nil }
        transmitQueued()
    }

    private func transmitQueued() {
        for i in queue.indices where queue[i].messageID == nil {
            do { queue[i].messageID = try link!.codec.send(queue[i].message) } catch {
                // Only an upload over the frame codec's message cap gets here: it can never be sent.
                printError("edge-agent: upload \(queue[i].sequence) dropped: \(error.description)")
                queue[i].messageID = 0
            }
        }
        queue.removeAll { $0.messageID == 0 }
    }

    private func handle(_ event: FrameEvent) {
        switch event {
        case .sent(let id):
            if let k = queue.firstIndex(where: { $0.messageID == id }) {
                queue.remove(at: k)
                statistics.uploadsAcknowledged += 1
                backoff.reset()
            }
        case .failed(_, let error):
            lose("the cloud stopped acknowledging: \(error.description)")
        case .delivered(_, let bytes):
            let message: CloudMessage
            do { message = try CloudMessage.decode(bytes) } catch {
                printError("edge-agent: from the cloud: \(error.description)")
                return
            }
            statistics.answersReceived += 1
            switch message {
            case .patch(let sequence, let patch): events.append(.patch(sequence: sequence, bytes: patch))
            case .noPatch(let sequence): events.append(.noPatch(sequence: sequence))
            case .refused(let reason):
                events.append(.refused(reason: reason))
                lose("refused: \(reason)")
            default: printError("edge-agent: the cloud sent a \(message.name) message, which only devices send")
            }
        }
    }

    private func lose(_ reason: String) {
        guard link != nil else { return }
        disconnect()
        statistics.connectionsLost += 1
        scheduleRetry(reason)
    }

    private func scheduleRetry(_ reason: String) {
        let delay = backoff.nextDelayMs()
        nextAttemptNs = Platform.monotonicNanoseconds() + UInt64(delay) * 1_000_000
        events.append(.unavailable(reason: reason, retryInMs: delay))
    }
}
