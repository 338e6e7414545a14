// The patch store's file operations with typed errors: thin Swift over the shim's store_io.c, one OS
// call per function so the store can be stopped between any two.
import CEdgeShim

enum StoreIO {
    private static func check(_ result: Int32, _ operation: String, _ path: String) throws(PatchStoreError) -> Int32 {
        if result >= 0 { return result }
        throw .io(operation: operation, path: path, errno: -result, message: String(cString: cedge_error_text(-result)))
    }

    static func create(_ path: String) throws(PatchStoreError) -> Int32 {
        try check(cedge_store_create(path), "create", path)
    }

    static func write(_ fd: Int32, _ bytes: ArraySlice<UInt8>, path: String) throws(PatchStoreError) {
        let r = bytes.withUnsafeBufferPointer { cedge_store_write(fd, $0.baseAddress, $0.count) }
        _ = try check(r, "write", path)
    }

    static func fsync(_ fd: Int32, path: String) throws(PatchStoreError) {
        _ = try check(cedge_store_fsync(fd), "fsync", path)
    }

    static func close(_ fd: Int32, path: String) throws(PatchStoreError) {
        _ = try check(cedge_store_close(fd), "close", path)
    }

    static func rename(_ from: String, _ to: String) throws(PatchStoreError) {
        _ = try check(cedge_store_rename(from, to), "rename to \(to)", from)
    }

    static func fsyncDirectory(_ path: String) throws(PatchStoreError) {
        _ = try check(cedge_store_fsync_directory(path), "fsync directory", path)
    }

    static func remove(_ path: String) throws(PatchStoreError) {
        _ = try check(cedge_store_remove(path), "remove", path)
    }

    static func makeDirectory(_ path: String) throws(PatchStoreError) {
        _ = try check(cedge_store_make_directory(path), "mkdir", path)
    }

    static func exists(_ path: String) -> Bool { cedge_read_file_exists(path) == 1 }

    /// The file's bytes, or nil when it does not exist.
    static func read(_ path: String) throws(PatchStoreError) -> [UInt8]? {
        var data: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        let status = cedge_read_file(path, &data, &length)
        if status == 2 { return nil }  // ENOENT
        if status != 0 {
            throw .io(operation: "read", path: path, errno: status, message: String(cString: cedge_error_text(status)))
        }
        defer { cedge_free(data) }
        if length == 0 { return [] }
        return Array(UnsafeBufferPointer(start: data, count: length))
    }
}
