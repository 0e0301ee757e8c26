/*
 * load.c - a small closed-loop HTTP/1.1 load generator for the benchmarks:
 * C connections, each sending one request at a time over keep-alive for D
 * seconds; prints requests/s and latency percentiles.
 *
 *   load HOST PORT METHOD PATH TOKEN CONNECTIONS SECONDS [BODY_FILE CONTENT_TYPE]
 *
 * Any status other than 2xx counts as an error.  Loopback use only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct worker {
    pthread_t thread;
    const char *request;
    size_t request_len;
    struct sockaddr_in addr;
    double deadline;
    double *latencies;
    size_t n, cap;
    size_t errors;
} worker;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(const struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads one response; returns the status or -1 (connection closed). */
static int read_response(int fd, char *buf, size_t cap)
{
    size_t have = 0;
    char *end = NULL;
    while (end == NULL) {
        ssize_t r = read(fd, buf + have, cap - 1 - have);
        if (r <= 0)
            return -1;
        have += (size_t)r;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end == NULL && have >= cap - 1)
            return -1;
    }
    int status = atoi(buf + 9);
    size_t length = 0;
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    if (cl != NULL)
        length = (size_t)strtoull(cl + 17, NULL, 10);
    size_t body_have = have - (size_t)(end + 4 - buf);
    while (body_have < length) {
        ssize_t r =
            read(fd, buf, cap - 1 < length - body_have ? cap - 1 : length - body_have);
        if (r <= 0)
            return -1;
        body_have += (size_t)r;
    }
    return status;
}

static void *run(void *arg)
{
    worker *w = arg;
    char buf[1 << 16];
    int fd = connect_to(&w->addr);
    while (now_s() < w->deadline) {
        if (fd < 0 && (fd = connect_to(&w->addr)) < 0) {
            w->errors++;
            continue;
        }
        double t0 = now_s();
        if (write(fd, w->request, w->request_len) != (ssize_t)w->request_len) {
            close(fd);
            fd = -1;
            w->errors++;
            continue;
        }
        int status = read_response(fd, buf, sizeof buf);
        double dt = now_s() - t0;
        if (status < 0) {
            close(fd);
            fd = -1;
            w->errors++;
            continue;
        }
        if (status < 200 || status > 299)
            w->errors++;
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 4096;
            w->latencies = realloc(w->latencies, w->cap * sizeof *w->latencies);
            if (w->latencies == NULL)
                exit(1);
        }
        w->latencies[w->n++] = dt;
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 8 && argc != 10) {
        fprintf(stderr, "usage: load HOST PORT METHOD PATH TOKEN CONNECTIONS SECONDS "
                        "[BODY_FILE CONTENT_TYPE]\n");
        return 2;
    }
    int n_conn = atoi(argv[6]);
    double seconds = atof(argv[7]);
    char *body = NULL;
    long body_len = 0;
    if (argc == 10) {
        FILE *f = fopen(argv[8], "rb");
        if (f == NULL)
            return 2;
        fseek(f, 0, SEEK_END);
        body_len = ftell(f);
        fseek(f, 0, SEEK_SET);
        body = malloc((size_t)body_len + 1);
        if (body == NULL || fread(body, 1, (size_t)body_len, f) != (size_t)body_len)
            return 2;
        fclose(f);
    }
    size_t cap = 4096 + (size_t)body_len;
    char *request = malloc(cap);
    int head =
        snprintf(request, cap,
                 "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                 "%s%s%sContent-Length: %ld\r\n\r\n",
                 argv[3], argv[4], argv[1], argv[5], argc == 10 ? "Content-Type: " : "",
                 argc == 10 ? argv[9] : "", argc == 10 ? "\r\n" : "", body_len);
    if (body_len > 0)
        memcpy(request + head, body, (size_t)body_len);
    size_t request_len = (size_t)head + (size_t)body_len;

    worker *workers = calloc((size_t)n_conn, sizeof *workers);
    double start = now_s();
    for (int i = 0; i < n_conn; i++) {
        workers[i].request = request;
        workers[i].request_len = request_len;
        workers[i].addr.sin_family = AF_INET;
        workers[i].addr.sin_port = htons((uint16_t)atoi(argv[2]));
        inet_pton(AF_INET, argv[1], &workers[i].addr.sin_addr);
        workers[i].deadline = start + seconds;
        pthread_create(&workers[i].thread, NULL, run, &workers[i]);
    }
    size_t total = 0, errors = 0;
    for (int i = 0; i < n_conn; i++) {
        pthread_join(workers[i].thread, NULL);
        total += workers[i].n;
        errors += workers[i].errors;
    }
    double elapsed = now_s() - start;
    double *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < n_conn; i++) {
        memcpy(all + k, workers[i].latencies, workers[i].n * sizeof *all);
        k += workers[i].n;
        free(workers[i].latencies);
    }
    qsort(all, total, sizeof *all, cmp_double);
    double p50 = total ? all[total / 2] : 0,
           p99 = total ? all[(size_t)(total * 0.99)] : 0;
    printf("%s %s: %.0f requests/s, p50 %.3f ms, p99 %.3f ms, %zu requests, %zu errors "
           "(%d connections, %.1f s)\n",
           argv[3], argv[4], (double)total / elapsed, p50 * 1e3, p99 * 1e3, total,
           errors, n_conn, elapsed);
    free(all);
    free(workers);
    free(request);
    free(body);
    return errors > 0 ? 1 : 0;
}
