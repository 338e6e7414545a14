// Persistence of a board's parameters on flash, A/B: `active` holds the current state and `previous` the
// one before it. A new state is written to a temporary file, fsynced, the old active is renamed to
// previous, the temporary file is renamed to active, and the directory is fsynced after each rename, so a
// crash or power cut at any point leaves at least one intact file that start-up finds (checksums tell).
// A patch is verified (signature, model, version counter, every value) before any byte is written.

/// The steps of one write, in order. A fault hook may stop the write before any of them.
public enum PatchStoreStep: CaseIterable, Equatable {
    case createTemporary, writeFirstHalf, writeSecondHalf, syncTemporary, closeTemporary
    case moveActiveToPrevious, syncDirectoryAfterMove, installTemporary, syncDirectory

    public var name: String {
        switch self {
        case .createTemporary: return "create temporary file"
        case .writeFirstHalf: return "write first half"
        case .writeSecondHalf: return "write second half"
        case .syncTemporary: return "fsync temporary file"
        case .closeTemporary: return "close temporary file"
        case .moveActiveToPrevious: return "rename active to previous"
        case .syncDirectoryAfterMove: return "fsync directory after the first rename"
        case .installTemporary: return "rename temporary file to active"
        case .syncDirectory: return "fsync directory"
        }
    }
}

/// Where the parameters in use came from.
public enum PatchStoreSlot: Equatable {
    case active, previous
    /// Neither file was usable: the model as shipped (version 0).
    case shipped

    public var name: String {
        switch self {
        case .active: return "active"
        case .previous: return "previous"
        case .shipped: return "shipped model"
        }
    }
}

public struct PatchStoreState: Equatable {
    public var slot: PatchStoreSlot
    public var version: UInt64
    /// Patches must move to a version above this one.
    public var highestAccepted: UInt64
    /// Why a file was skipped (torn, corrupt, another model), one sentence each, for the log.
    public var problems: [String]
}

public final class PatchStore {
    public let directory: String
    /// Called before every write step; returning false stops the write there (tests simulate crashes).
    public var faultHook: ((PatchStoreStep) -> Bool)?
    public private(set) var highestAccepted: UInt64 = 0

    var activePath: String { directory + "/active" }
    var previousPath: String { directory + "/previous" }
    var temporaryPath: String { directory + "/next.tmp" }

    /// Opens (creating it if needed) the store directory.
    public init(directory: String) throws(PatchStoreError) {
        self.directory = directory
        try StoreIO.makeDirectory(directory)
    }

    // MARK: start-up

    /// Puts `model`, freshly loaded from the shipped file (version 0), into the last good stored state:
    /// active if intact, else previous, else as shipped.
    public func restore(_ model: Model) throws(PatchStoreError) -> PatchStoreState {
        if model.version != 0 { throw .patch(.baseVersionMismatch(expected: 0, got: model.version)) }
        var problems: [String] = []
        var highest: UInt64 = 0
        var chosen: (slot: PatchStoreSlot, version: UInt64)?
        for (slot, path) in [(PatchStoreSlot.active, activePath), (.previous, previousPath)] {
            guard let record = try readRecord(path, problems: &problems) else { continue }
            if record.modelSHA256 != model.modelSHA256 {
                problems.append("\(slot.name): parameters of model \(SHA256.hex(record.modelSHA256)), not of this model")
                continue
            }
            highest = max(highest, record.version, record.highestAccepted)
            if chosen != nil { continue }
            do {
                let patch = try PatchDecoder.decode(bytes: record.payload)
                if patch.baseVersion != 0 || patch.newVersion != record.version {
                    problems.append("\(slot.name): payload versions \(patch.baseVersion) -> \(patch.newVersion) disagree with the header's \(record.version)")
                    continue
                }
                if record.version != 0 { try model.apply(patch) }
                chosen = (slot, record.version)
            } catch {
                problems.append("\(slot.name): \(error.description)")
            }
        }
        highestAccepted = highest
        let c = chosen ?? (PatchStoreSlot.shipped, 0)
        return PatchStoreState(slot: c.slot, version: c.version, highestAccepted: highest, problems: problems)
    }

    // MARK: new patches

    /// Verifies `patchBytes` (signature first, then model identity, version counter and every value),
    /// applies it to `model` (restored by `restore`) and persists the new state. Returns the new version.
    /// On any error nothing on disk has changed and the model is as before.
    @discardableResult
    public func install(patchBytes: [UInt8], verifier: SignatureVerifier, model: Model) throws(PatchStoreError) -> UInt64 {
        do { try verifier.verify(patchBytes: patchBytes) } catch { throw .signature(error) }
        let patch: ParameterPatch
        do { patch = try PatchDecoder.decode(bytes: patchBytes) } catch { throw .patch(error) }
        if patch.modelSHA256 != model.modelSHA256 {
            throw .patch(.modelMismatch(expected: SHA256.hex(model.modelSHA256), got: SHA256.hex(patch.modelSHA256)))
        }
        if patch.newVersion <= highestAccepted { throw .staleVersion(got: patch.newVersion, highestAccepted: highestAccepted) }
        let undo: ParameterPatch
        do { undo = try model.apply(patch) } catch { throw .patch(error) }
        let snapshot = PatchStoreSnapshot.capture(model)
        let record = PatchStoreRecord(modelSHA256: model.modelSHA256, version: patch.newVersion,
                                      highestAccepted: patch.newVersion, payload: PatchStoreSnapshot.encode(snapshot))
        do { try commit(record) } catch {
            _ = try? model.apply(undo)
            throw error
        }
        highestAccepted = patch.newVersion
        return patch.newVersion
    }

    /// Makes the previous parameters active again (and the current ones previous). The version counter
    /// keeps its highest value, so the patch rolled back cannot be replayed. Returns the version now active;
    /// the model picks it up at its next `restore`.
    @discardableResult
    public func rollback() throws(PatchStoreError) -> UInt64 {
        var problems: [String] = []
        guard let previous = try readRecord(previousPath, problems: &problems) else {
            throw .noPrevious(reason: problems.first ?? "there is no previous file (nothing was installed before the active parameters)")
        }
        var highest = max(highestAccepted, previous.version, previous.highestAccepted)
        if let active = try readRecord(activePath, problems: &problems), active.modelSHA256 == previous.modelSHA256 {
            highest = max(highest, active.version, active.highestAccepted)
        }
        var record = previous
        record.highestAccepted = highest
        try commit(record)
        highestAccepted = highest
        return record.version
    }

    // MARK: writing

    private func step(_ s: PatchStoreStep) throws(PatchStoreError) {
        if let hook = faultHook, !hook(s) { throw .stoppedBefore(s) }
    }

    private func commit(_ record: PatchStoreRecord) throws(PatchStoreError) {
        let bytes = record.encoded()
        try step(.createTemporary)
        let fd = try StoreIO.create(temporaryPath)
        do {
            let half = bytes.count / 2
            try step(.writeFirstHalf)
            try StoreIO.write(fd, bytes[0..<half], path: temporaryPath)
            try step(.writeSecondHalf)
            try StoreIO.write(fd, bytes[half...], path: temporaryPath)
            try step(.syncTemporary)
            try StoreIO.fsync(fd, path: temporaryPath)
            try step(.closeTemporary)
        } catch {
            _ = try? StoreIO.close(fd, path: temporaryPath)
            throw error
        }
        try StoreIO.close(fd, path: temporaryPath)
        // Only an intact active file becomes previous: a torn one is simply replaced, and previous keeps
        // the last good state.
        var ignored: [String] = []
        if (try? readRecord(activePath, problems: &ignored)) ?? nil != nil {
            try step(.moveActiveToPrevious)
            try StoreIO.rename(activePath, previousPath)
            try step(.syncDirectoryAfterMove)
            try StoreIO.fsyncDirectory(directory)
        }
        try step(.installTemporary)
        try StoreIO.rename(temporaryPath, activePath)
        try step(.syncDirectory)
        try StoreIO.fsyncDirectory(directory)
    }

    private func readRecord(_ path: String, problems: inout [String]) throws(PatchStoreError) -> PatchStoreRecord? {
        let name = path == activePath ? "active" : "previous"
        // A missing file is no damage (a new store, or a crash between the two renames); the slot in use
        // says which file was read.
        guard let bytes = try StoreIO.read(path) else { return nil }
        let (record, problem) = PatchStoreRecord.decode(bytes)
        if record == nil { problems.append("\(name): \(problem)") }
        return record
    }
}
