// TCP sockets for the frame link (cema flash --tcp, cema serve, edge-agent daemon/serve --listen):
// connect and accept with timeouts, poll-based reads and writes. Errors are -errno; name resolution
// failures are CEDGE_SOCKET_RESOLVE_FAILED with the resolver's text from cedge_socket_resolve_text.
#ifndef CEDGE_SOCKET_H
#define CEDGE_SOCKET_H
#include <stddef.h>
#include <stdint.h>

// Below every -errno value Linux uses, so it cannot be mistaken for one.
#define CEDGE_SOCKET_RESOLVE_FAILED (-100000)

// Text of the last resolver failure in this thread (getaddrinfo's gai_strerror), never NULL.
const char *cedge_socket_resolve_text(void);
// Connects to host:port (a name, an IPv4 or an IPv6 address), trying each resolved address until one
// answers within `timeout_ms`. The socket is non-blocking, with TCP_NODELAY (the frame codec waits for
// every chunk's ACK, so Nagle's algorithm would stall each chunk) and keep-alive. Returns the descriptor.
int cedge_tcp_connect(const char *host, uint16_t port, int timeout_ms);
// Listens on host:port (NULL or "" for every address; port 0 picks a free port). *bound_port gets the
// port in use. Returns the listening descriptor.
int cedge_tcp_listen(const char *host, uint16_t port, int *bound_port);
// Waits up to `timeout_ms` for a connection; returns its descriptor (set up as cedge_tcp_connect's),
// -EAGAIN when none came.
int cedge_tcp_accept(int listen_fd, int timeout_ms);
// The peer's address as "a.b.c.d:port" (or "[v6]:port") into `out`; 0 or -errno.
int cedge_tcp_peer_name(int fd, char *out, size_t capacity);
// Waits up to `timeout_ms` for input, then reads what is there (at most `capacity` bytes). Works on
// any descriptor (sockets, pipes, stdin). Returns the byte count (0 when nothing arrived in time) or
// -errno; -EPIPE when the other end closed (end of file).
long cedge_fd_read(int fd, uint8_t *buffer, size_t capacity, int timeout_ms);
// Writes all bytes, waiting up to `timeout_ms` each time the socket's send buffer is full; never raises
// SIGPIPE. 0, -ETIMEDOUT, or -errno (-EPIPE / -ECONNRESET when the peer is gone).
int cedge_tcp_write(int fd, const uint8_t *bytes, size_t length, int timeout_ms);
int cedge_tcp_close(int fd);
// Sleeps (for reconnect back-off and pacing); returns early only on a signal.
void cedge_sleep_ms(int ms);
#endif
