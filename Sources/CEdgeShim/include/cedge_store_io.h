// The POSIX calls the patch store makes, one C function each so the store can stop (or be stopped by a
// test's fault hook) between any two of them. Each returns 0 (or a descriptor) on success and an errno
// value, negated, on failure.
#ifndef CEDGE_STORE_IO_H
#define CEDGE_STORE_IO_H
#include <stddef.h>
#include <stdint.h>

// Creates or truncates `path` for writing (mode 0644); returns the descriptor or -errno.
int cedge_store_create(const char *path);
// Writes all `length` bytes (retrying short writes and EINTR); 0 or -errno.
int cedge_store_write(int fd, const uint8_t *bytes, size_t length);
int cedge_store_fsync(int fd);
int cedge_store_close(int fd);
// rename(2): atomically replaces `to` on POSIX file systems.
int cedge_store_rename(const char *from, const char *to);
// Opens the directory and fsyncs it, so the renames inside it survive power loss.
int cedge_store_fsync_directory(const char *path);
// unlink(2); a missing file is not an error.
int cedge_store_remove(const char *path);
// mkdir(2) with mode 0755; an existing directory is not an error.
int cedge_store_make_directory(const char *path);
#endif
