// OS services for Swift code that cannot use Foundation (the board build): files, clocks, CPU facts.
#define _GNU_SOURCE
#include "cedge_platform.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cedge_read_file(const char *path, uint8_t **out, size_t *out_length) {
    *out = NULL;
    *out_length = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    struct stat st;
    if (fstat(fd, &st) != 0) { int e = errno; close(fd); return e; }
    if (S_ISDIR(st.st_mode)) { close(fd); return EISDIR; }
    size_t capacity = st.st_size > 0 ? (size_t)st.st_size : 4096, length = 0;
    uint8_t *buffer = malloc(capacity);
    if (!buffer) { close(fd); return ENOMEM; }
    for (;;) {
        if (length == capacity) {  // files that grow or report no size (pipes)
            uint8_t *bigger = realloc(buffer, capacity * 2);
            if (!bigger) { free(buffer); close(fd); return ENOMEM; }
            buffer = bigger;
            capacity *= 2;
        }
        ssize_t n = read(fd, buffer + length, capacity - length);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno; free(buffer); close(fd); return e;
        }
        if (n == 0) break;
        length += (size_t)n;
    }
    close(fd);
    *out = buffer;
    *out_length = length;
    return 0;
}

int cedge_write_file(const char *path, const uint8_t *bytes, size_t length) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    size_t done = 0;
    while (done < length) {
        ssize_t n = write(fd, bytes + done, length - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno; close(fd); return e;
        }
        done += (size_t)n;
    }
    if (close(fd) != 0) return errno;
    return 0;
}

void cedge_free(void *pointer) { free(pointer); }

const char *cedge_error_text(int error_number) {
    const char *text = strerror(error_number);
    return text ? text : "unknown error";
}

uint64_t cedge_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int cedge_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void cedge_write_stderr(const char *text) {
    fputs(text, stderr);
    fflush(stderr);
}

void *cedge_aligned_alloc(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) return NULL;
    memset(p, 0, bytes ? bytes : 64);
    return p;
}

void cedge_aligned_free(void *pointer) { free(pointer); }

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cedge_list_directory(const char *path, char **out) {
    *out = NULL;
    DIR *dir = opendir(path);
    if (!dir) return errno;
    size_t count = 0, capacity = 64, total = 1;
    char **names = malloc(capacity * sizeof *names);
    if (!names) { closedir(dir); return ENOMEM; }
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        if (count == capacity) {
            char **bigger = realloc(names, capacity * 2 * sizeof *names);
            if (!bigger) break;
            names = bigger;
            capacity *= 2;
        }
        names[count] = strdup(entry->d_name);
        total += strlen(entry->d_name) + 1;
        count++;
    }
    closedir(dir);
    qsort(names, count, sizeof *names, compare_names);
    char *joined = malloc(total);
    if (!joined) { for (size_t i = 0; i < count; i++) free(names[i]); free(names); return ENOMEM; }
    char *cursor = joined;
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(names[i]);
        memcpy(cursor, names[i], n);
        cursor += n;
        *cursor++ = '\n';
        free(names[i]);
    }
    *cursor = '\0';
    free(names);
    *out = joined;
    return 0;
}

int cedge_is_directory(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cedge_read_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}
