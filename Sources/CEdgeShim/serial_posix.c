// termios serial I/O for the frame link (cema flash, edge-agent serve): raw mode, baud table, poll-based
// reads with a timeout, pty pairs for tests. POSIX only; the whole file is one platform.
#if defined(__unix__) || defined(__APPLE__)
#define _GNU_SOURCE
#include "cedge_serial.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

// termios names speeds with constants, not numbers; these are the ones boards and USB adapters use.
static int speed_constant(uint32_t baud, speed_t *out) {
    switch (baud) {
    case 9600: *out = B9600; return 0;
    case 19200: *out = B19200; return 0;
    case 38400: *out = B38400; return 0;
    case 57600: *out = B57600; return 0;
    case 115200: *out = B115200; return 0;
    case 230400: *out = B230400; return 0;
#ifdef B460800
    case 460800: *out = B460800; return 0;
#endif
#ifdef B921600
    case 921600: *out = B921600; return 0;
#endif
#ifdef B1000000
    case 1000000: *out = B1000000; return 0;
#endif
    default: return -EINVAL;
    }
}

int cedge_serial_make_raw(int fd, uint32_t baud) {
    speed_t speed;
    if (speed_constant(baud, &speed) != 0) return -EINVAL;
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return -errno;
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;   // ignore modem control lines; enable the receiver
    t.c_cflag &= ~(CSTOPB | PARENB | CRTSCTS);
    t.c_cc[VMIN] = 0;              // reads never block in the kernel: poll() does the waiting
    t.c_cc[VTIME] = 0;
    if (cfsetispeed(&t, speed) != 0 || cfsetospeed(&t, speed) != 0) return -errno;
    if (tcsetattr(fd, TCSANOW, &t) != 0) return -errno;
    return 0;
}

int cedge_serial_open(const char *path, uint32_t baud) {
    speed_t speed;
    if (speed_constant(baud, &speed) != 0) return -EINVAL;
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    if (!isatty(fd)) { close(fd); return -ENOTTY; }
    int r = cedge_serial_make_raw(fd, baud);
    if (r != 0) { close(fd); return r; }
    tcflush(fd, TCIOFLUSH);        // drop whatever was queued before we owned the line
    return fd;
}

long cedge_serial_read(int fd, uint8_t *buffer, size_t capacity, int timeout_ms) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int n;
    do { n = poll(&p, 1, timeout_ms); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (n == 0) return 0;
    if ((p.revents & POLLIN) == 0 && (p.revents & (POLLHUP | POLLERR))) return -EPIPE;
    ssize_t got = read(fd, buffer, capacity);
    if (got < 0) {
        if (errno == EAGAIN || errno == EINTR) return 0;
        if (errno == EIO) return -EPIPE;   // a pty whose other end is closed
        return -errno;
    }
    return got;
}

int cedge_serial_write(int fd, const uint8_t *bytes, size_t length) {
    size_t done = 0;
    while (done < length) {
        ssize_t n = write(fd, bytes + done, length - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                if (poll(&p, 1, 1000) <= 0) return -ETIMEDOUT;
                continue;
            }
            return -errno;
        }
        done += (size_t)n;
    }
    return 0;
}

int cedge_serial_close(int fd) { return close(fd) == 0 ? 0 : -errno; }

int cedge_serial_open_pty(int *master, int *slave, char *slave_path, size_t path_capacity) {
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (m < 0) return -errno;
    if (grantpt(m) != 0 || unlockpt(m) != 0) { int e = errno; close(m); return -e; }
    char name[128];
    if (ptsname_r(m, name, sizeof name) != 0) { int e = errno; close(m); return -e; }
    int s = open(name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (s < 0) { int e = errno; close(m); return -e; }
    int r = cedge_serial_make_raw(s, 115200);
    if (r != 0) { close(s); close(m); return r; }
    if (slave_path && path_capacity > 0) snprintf(slave_path, path_capacity, "%s", name);
    *master = m;
    *slave = s;
    return 0;
}
#endif
