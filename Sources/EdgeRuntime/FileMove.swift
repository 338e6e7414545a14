// File writes and moves for a board's outbox and inbox: a reader of the directory never sees a half-written
// file, and a handled patch file is renamed so it is not handled twice.

/// Writes `bytes` to `path` through a temporary file, fsync and a rename (atomic on POSIX file systems).
public func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws(PatchStoreError) {
    let temporary = path + ".partial"
    let fd = try StoreIO.create(temporary)
    do {
        try StoreIO.write(fd, bytes[...], path: temporary)
        try StoreIO.fsync(fd, path: temporary)
    } catch {
        _ = try? StoreIO.close(fd, path: temporary)
        throw error
    }
    try StoreIO.close(fd, path: temporary)
    try StoreIO.rename(temporary, path)
}

/// rename(2), with an error that names both files.
public func moveFile(_ from: String, to: String) throws(PatchStoreError) {
    try StoreIO.rename(from, to)
}

/// mkdir(2) with mode 0755; an existing directory is fine.
public func makeDirectory(_ path: String) throws(PatchStoreError) {
    try StoreIO.makeDirectory(path)
}
