// POSIX file operations for the patch store (write to a temporary file, fsync, rename, fsync the folder),
// each a separate call that reports errno.
#include "cedge_store_io.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int cedge_store_create(const char *path) {
    int fd;
    do { fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); } while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

int cedge_store_write(int fd, const uint8_t *bytes, size_t length) {
    size_t done = 0;
    while (done < length) {
        ssize_t n = write(fd, bytes + done, length - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (n == 0) return -EIO;
        done += (size_t)n;
    }
    return 0;
}

int cedge_store_fsync(int fd) {
    int r;
    do { r = fsync(fd); } while (r != 0 && errno == EINTR);
    return r == 0 ? 0 : -errno;
}

// close(2) is not retried on EINTR: on Linux the descriptor is released either way.
int cedge_store_close(int fd) { return close(fd) == 0 ? 0 : -errno; }

int cedge_store_rename(const char *from, const char *to) { return rename(from, to) == 0 ? 0 : -errno; }

int cedge_store_fsync_directory(const char *path) {
    int fd;
    do { fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC); } while (fd < 0 && errno == EINTR);
    if (fd < 0) return -errno;
    int r = cedge_store_fsync(fd);
    close(fd);
    return r;
}

int cedge_store_remove(const char *path) {
    if (unlink(path) == 0 || errno == ENOENT) return 0;
    return -errno;
}

int cedge_store_make_directory(const char *path) {
    if (mkdir(path, 0755) == 0) return 0;
    if (errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
        return -ENOTDIR;
    }
    return -errno;
}
