// POSIX TCP sockets for the frame link: non-blocking descriptors driven by poll(2), so every call has a
// bounded wait and a board daemon never hangs on a dead network. POSIX only; the whole file is one platform.
#if defined(__unix__) || defined(__APPLE__)
#define _GNU_SOURCE
#include "cedge_socket.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static __thread char resolve_text[160] = "no resolver error";

const char *cedge_socket_resolve_text(void) { return resolve_text; }

static void tune_stream(int fd) {
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
}

static int resolve(const char *host, uint16_t port, int passive, struct addrinfo **out) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    const char *name = (host && host[0]) ? host : NULL;
    int r = getaddrinfo(name, service, &hints, out);
    if (r != 0) {
        snprintf(resolve_text, sizeof resolve_text, "%s", r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
        return CEDGE_SOCKET_RESOLVE_FAILED;
    }
    return 0;
}

// One non-blocking connect, finished by poll within timeout_ms: the descriptor or -errno.
static int connect_one(const struct addrinfo *a, int timeout_ms) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) return -errno;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) { int e = errno; close(fd); return -e; }
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int n;
        do { n = poll(&p, 1, timeout_ms); } while (n < 0 && errno == EINTR);
        if (n == 0) { close(fd); return -ETIMEDOUT; }
        if (n < 0) { int e = errno; close(fd); return -e; }
        int error = 0;
        socklen_t length = sizeof error;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
        if (error != 0) { close(fd); return -error; }
    }
    tune_stream(fd);
    return fd;
}

int cedge_tcp_connect(const char *host, uint16_t port, int timeout_ms) {
    struct addrinfo *list = NULL;
    int r = resolve(host, port, 0, &list);
    if (r != 0) return r;
    int result = -EADDRNOTAVAIL;
    for (struct addrinfo *a = list; a; a = a->ai_next) {
        result = connect_one(a, timeout_ms);
        if (result >= 0) break;
    }
    freeaddrinfo(list);
    return result;
}

int cedge_tcp_listen(const char *host, uint16_t port, int *bound_port) {
    struct addrinfo *list = NULL;
    int r = resolve(host, port, 1, &list);
    if (r != 0) return r;
    int result = -EADDRNOTAVAIL;
    for (struct addrinfo *a = list; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) { result = -errno; continue; }
        int on = 1;
        // A restarted service must be able to take its port back while old connections sit in TIME_WAIT.
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 16) != 0) {
            result = -errno;
            close(fd);
            continue;
        }
        struct sockaddr_storage s;
        socklen_t length = sizeof s;
        if (bound_port && getsockname(fd, (struct sockaddr *)&s, &length) == 0) {
            *bound_port = s.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&s)->sin6_port)
                                                 : ntohs(((struct sockaddr_in *)&s)->sin_port);
        }
        result = fd;
        break;
    }
    freeaddrinfo(list);
    return result;
}

int cedge_tcp_accept(int listen_fd, int timeout_ms) {
    struct pollfd p = { .fd = listen_fd, .events = POLLIN };
    int n;
    do { n = poll(&p, 1, timeout_ms); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (n == 0) return -EAGAIN;
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return (errno == EWOULDBLOCK || errno == ECONNABORTED || errno == EINTR) ? -EAGAIN : -errno;
    tune_stream(fd);
    return fd;
}

int cedge_tcp_peer_name(int fd, char *out, size_t capacity) {
    struct sockaddr_storage s;
    socklen_t length = sizeof s;
    if (getpeername(fd, (struct sockaddr *)&s, &length) != 0) return -errno;
    char host[INET6_ADDRSTRLEN] = "?";
    if (s.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(out, capacity, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&s;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(out, capacity, "%s:%u", host, (unsigned)ntohs(a->sin_port));
    }
    return 0;
}

long cedge_fd_read(int fd, uint8_t *buffer, size_t capacity, int timeout_ms) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int n;
    do { n = poll(&p, 1, timeout_ms); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (n == 0) return 0;
    ssize_t got = read(fd, buffer, capacity);
    if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
        return -errno;
    }
    if (got == 0) return -EPIPE;   // poll said readable and there is nothing: end of file
    return got;
}

int cedge_tcp_write(int fd, const uint8_t *bytes, size_t length, int timeout_ms) {
    size_t done = 0;
    while (done < length) {
        ssize_t n = send(fd, bytes + done, length - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                int r;
                do { r = poll(&p, 1, timeout_ms); } while (r < 0 && errno == EINTR);
                if (r == 0) return -ETIMEDOUT;
                if (r < 0) return -errno;
                continue;
            }
            return -errno;
        }
        done += (size_t)n;
    }
    return 0;
}

int cedge_tcp_close(int fd) { return close(fd) == 0 ? 0 : -errno; }

void cedge_sleep_ms(int ms) {
    if (ms <= 0) return;
    struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}
#endif
