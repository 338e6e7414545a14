// Small OS services the Swift code needs without Foundation: files, clocks, CPU facts.
#ifndef CEDGE_PLATFORM_H
#define CEDGE_PLATFORM_H
#include <stddef.h>
#include <stdint.h>

// Reads a whole file into a malloc'd buffer. Returns 0, or an errno value (and *out stays NULL).
int cedge_read_file(const char *path, uint8_t **out, size_t *out_length);
// Writes a whole buffer to a file (created or truncated). Returns 0 or an errno value.
int cedge_write_file(const char *path, const uint8_t *bytes, size_t length);
void cedge_free(void *pointer);
// Text of an errno value (strerror), never NULL.
const char *cedge_error_text(int error_number);
// Monotonic clock in nanoseconds.
uint64_t cedge_monotonic_ns(void);
// Number of online processors (at least 1).
int cedge_cpu_count(void);
// Writes a string to stderr (Embedded Swift's print goes to stdout only).
void cedge_write_stderr(const char *text);
// 64-byte aligned allocation, zero-filled; NULL on failure.
void *cedge_aligned_alloc(size_t bytes);
void cedge_aligned_free(void *pointer);
// Lists the entries of a directory (names only, '\n'-separated, sorted) into a malloc'd string.
int cedge_list_directory(const char *path, char **out);
// 1 when path exists and is a regular file, 0 otherwise.
int cedge_read_file_exists(const char *path);
// 1 when path is a directory, 0 otherwise.
int cedge_is_directory(const char *path);
#endif
