// Serial ports through termios: raw 8N1 at a chosen baud rate, non-blocking reads with a timeout, and
// pseudo-terminal pairs so both ends of a link can be tested in one process. Errors are -errno.
#ifndef CEDGE_SERIAL_H
#define CEDGE_SERIAL_H
#include <stddef.h>
#include <stdint.h>

// Opens a tty device and puts it in raw mode (no echo, no line editing, no CR/LF translation, no
// signals, 8 data bits, no parity, 1 stop bit, receiver on, modem lines ignored) at `baud`.
// Returns the descriptor, -EINVAL for a baud rate termios has no constant for, or -errno.
int cedge_serial_open(const char *path, uint32_t baud);
// Raw mode on an already open tty descriptor (used for the pty's slave end).
int cedge_serial_make_raw(int fd, uint32_t baud);
// Waits up to `timeout_ms` for input, then reads what is there (at most `capacity` bytes).
// Returns the byte count (0 when nothing arrived in time) or -errno; -EPIPE when the other end closed.
long cedge_serial_read(int fd, uint8_t *buffer, size_t capacity, int timeout_ms);
// Writes all bytes (waiting while the output queue is full); 0 or -errno.
int cedge_serial_write(int fd, const uint8_t *bytes, size_t length);
int cedge_serial_close(int fd);
// A pseudo-terminal pair: *master and *slave descriptors, the slave in raw mode, both non-blocking.
// The slave's path goes to `slave_path` (at least 64 bytes) for tools that open it by name.
int cedge_serial_open_pty(int *master, int *slave, char *slave_path, size_t path_capacity);
#endif
