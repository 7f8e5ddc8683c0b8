// The native load client of bench:fanout: the job of load-client.ts + sse-meter.ts in one single-threaded epoll loop,
// so the load costs the shared cores far less than a Node process does. bench/fanout/load-client-native.ts spawns it
// and translates between bench/fanout.ts's IPC messages and these lines.
//
// stdin (lines):  host <ip> | concurrency <n> | path <request path> (by channel index, in order)
//                 | conn <port> <channel> <source ip> (one per connection) | go   -- then, any time after:
//                 window <w0> <w1> | report | stop          (EOF on stdin = the parent is gone: exit)
// stdout (lines): one JSON object each, the IPC message the wrapper forwards as is: progress, connected, result.
//
// What is measured mirrors SseMeter exactly: an event is a snapshot when it is not a comment, is at least as long as
// `"publishedAt":`, holds `"time":"<ISO>"` (first occurrence: the tick) and `"publishedAt":<digits>` (last occurrence).
// Ticks in [w0, w1) count once per connection (a tick not above the connection's last counted one is a duplicate);
// latency = wall-clock ms of the read that completed the event − publishedAt, into 1-ms bins like histogram.ts.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum { HEAD, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, RAW, DONE };
enum { CONNECTING, STREAMING };

#define BINS 60000
#define MAX_CARRY (1 << 20)
#define MAX_HEAD (16 * 1024)
#define READ_BUFFER (256 * 1024)

static const char PUBLISHED_AT[] = "\"publishedAt\":";
#define PUBLISHED_AT_LEN (sizeof PUBLISHED_AT - 1)
static const char TIME[] = "\"time\":\"";
#define TIME_LEN (sizeof TIME - 1)
static const char DELTA_LINE[] = "\nevent: delta\n";
#define DELTA_LINE_LEN (sizeof DELTA_LINE - 1)

// Per connection: small; the head and a partial event are kept in heap buffers only while they are incomplete.
typedef struct {
  int64_t last_tick;
  char *head;      // response head so far (until \r\n\r\n)
  char *carry;     // partial event carried over to the next read
  uint32_t head_len, carry_len, carry_cap;
  uint32_t chunk_left;
  uint16_t channel, port;
  uint8_t phase, io, end_left, size_len, in_use, established, settled;
  char size_line[66];
} Conn;

static Conn *conns;  // indexed by fd
static int max_fds;
static int ep;
static char rbuf[READ_BUFFER];

static char host[64] = "127.0.0.1";
static int concurrency = 100;
static char **paths;
static int n_paths, cap_paths;
typedef struct {
  uint16_t port;
  uint16_t channel;
  struct in_addr src;
} Plan;
static Plan *plan;
static int n_plan, cap_plan;
static int planned;  // `go` seen

static int next_conn, in_flight, all_settled_sent;
static int64_t w0 = INT64_MAX, w1 = INT64_MAX;
static int64_t read_at;
static long long reads, duplicates, connected_n, failed_n, dropped_n;
static long long *received, *established_by_channel;
static uint32_t bins[BINS + 1];
static long long hist_count, hist_sum, hist_max;
// per second of the window (by the message's tick): deliveries, the slowest, and how many took over 200 ms
#define SECONDS 600
static long long sec_count[SECONDS], sec_max[SECONDS], sec_over[SECONDS];
static struct rusage ru_window;
static int have_window_ru;
static int64_t last_progress;

// failure reasons, counted
typedef struct {
  char *reason;
  long long n;
} Reason;
static Reason reasons[64];
static int n_reasons;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what) {
  fprintf(stderr, "load-client: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void count_failure(const char *reason) {
  for (int i = 0; i < n_reasons; i++)
    if (strcmp(reasons[i].reason, reason) == 0) {
      reasons[i].n++;
      return;
    }
  if (n_reasons == (int)(sizeof reasons / sizeof reasons[0])) reason = "other";
  for (int i = 0; i < n_reasons; i++)
    if (strcmp(reasons[i].reason, reason) == 0) {
      reasons[i].n++;
      return;
    }
  reasons[n_reasons].reason = strdup(reason);
  reasons[n_reasons++].n = 1;
}

/** Node's error code for the errnos a connect or read can end with. */
static const char *errno_name(int e) {
  switch (e) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EADDRINUSE: return "EADDRINUSE";
    case EPIPE: return "EPIPE";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENOBUFS: return "ENOBUFS";
    default: {
      static char buf[32];
      snprintf(buf, sizeof buf, "errno %d", e);
      return buf;
    }
  }
}

// ---- output ----

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20 || c >= 0x7f) fprintf(f, "\\u%04x", c);  // the head is read as latin1: keep JSON ASCII
    else fputc(c, f);
  }
  fputc('"', f);
}

static void json_failures(FILE *f) {
  fputc('{', f);
  for (int i = 0; i < n_reasons; i++) {
    if (i) fputc(',', f);
    json_string(f, reasons[i].reason);
    fprintf(f, ":%lld", reasons[i].n);
  }
  fputc('}', f);
}

static void json_counts(FILE *f, const long long *a, int n) {
  fputc('[', f);
  for (int i = 0; i < n; i++) fprintf(f, i ? ",%lld" : "%lld", a[i]);
  fputc(']', f);
}

static void send_progress(void) {
  printf("{\"type\":\"progress\",\"connected\":%lld,\"failed\":%lld}\n", connected_n, failed_n);
  fflush(stdout);
}

static void send_connected(void) {
  printf("{\"type\":\"connected\",\"connected\":%lld,\"failed\":%lld,\"failures\":", connected_n, failed_n);
  json_failures(stdout);
  printf("}\n");
  fflush(stdout);
}

static long rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, resident = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
    fclose(f);
  }
  return resident * sysconf(_SC_PAGESIZE);
}

static double ru_ms(const struct rusage *r) {
  return (r->ru_utime.tv_sec + r->ru_stime.tv_sec) * 1000.0 + (r->ru_utime.tv_usec + r->ru_stime.tv_usec) / 1000.0;
}

static void send_result(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru_ms(&ru) - (have_window_ru ? ru_ms(&ru_window) : 0);
  printf("{\"type\":\"result\",\"connected\":%lld,\"failed\":%lld,\"dropped\":%lld,\"failures\":", connected_n, failed_n, dropped_n);
  json_failures(stdout);
  printf(",\"received\":");
  json_counts(stdout, received, n_paths);
  printf(",\"establishedByChannel\":");
  json_counts(stdout, established_by_channel, n_paths);
  printf(",\"duplicates\":%lld,\"latency\":{\"pairs\":[", duplicates);
  int first = 1;
  for (int i = 0; i <= BINS; i++)
    if (bins[i]) {
      printf(first ? "[%d,%u]" : ",[%d,%u]", i, bins[i]);
      first = 0;
    }
  printf("],\"max\":%lld,\"sum\":%lld},\"bySecond\":[", hist_max, hist_sum);
  first = 1;
  for (int i = 0; i < SECONDS; i++)
    if (sec_count[i]) {
      printf(first ? "[%d,%lld,%lld,%lld]" : ",[%d,%lld,%lld,%lld]", i, sec_count[i], sec_max[i], sec_over[i]);
      first = 0;
    }
  printf("],\"cpuMs\":%.3f,\"rssBytes\":%ld,\"reads\":%lld}\n", cpu, rss_bytes(), reads);
  fflush(stdout);
}

// ---- SSE parsing (SseMeter) ----

static void record(int64_t ms) {
  int64_t v = ms < 0 ? 0 : ms;
  bins[v > BINS ? BINS : v]++;
  hist_count++;
  hist_sum += v;
  if (v > hist_max) hist_max = v;
}

/** The non-negative integer at v[i..end), or -1 (no digits). */
static int64_t digits(const char *v, size_t i, size_t end) {
  int64_t n = 0;
  int any = 0;
  for (; i < end; i++) {
    unsigned c = (unsigned char)v[i] - '0';
    if (c > 9) break;
    n = n * 10 + c;
    any = 1;
  }
  return any ? n : -1;
}

static int64_t floordiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

/** Days since 1970-01-01 of a proleptic Gregorian date; month may be out of 0..11 (carried into the year, as Date.UTC). */
static int64_t days_from_civil(int64_t y, int64_t m0, int64_t d) {
  y += floordiv(m0, 12);
  int64_t m = m0 - floordiv(m0, 12) * 12 + 1;
  y -= m <= 2;
  int64_t era = floordiv(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

#define D2(v, i) (((v)[i] - '0') * 10 + ((v)[(i) + 1] - '0'))

/** `YYYY-MM-DDTHH:MM:SS.sssZ` at v[i..] (v has len bytes) → epoch ms, or -1. */
static int64_t iso_millis(const char *v, size_t len, size_t i) {
  if (len < i + 24 || v[i + 4] != '-' || v[i + 10] != 'T' || v[i + 23] != 'Z') return -1;
  int64_t year = D2(v, i) * 100 + D2(v, i + 2);
  int64_t ms = (v[i + 20] - '0') * 100 + D2(v, i + 21);
  int64_t days = days_from_civil(year, D2(v, i + 5) - 1, D2(v, i + 8));
  return days * 86400000 + (int64_t)D2(v, i + 11) * 3600000 + (int64_t)D2(v, i + 14) * 60000 + (int64_t)D2(v, i + 17) * 1000 + ms;
}

// glibc's memmem scans a 3 KB event at about 1 byte per cycle; these find their needle with memchr/memrchr (SIMD)
// on its first byte, the quote, and compare there.

/** The first `"time":"` in v[start, end), or NULL (SseMeter: indexOf from the event's start). */
static const char *first_time(const char *v, size_t start, size_t end) {
  const char *p = v + start, *e = v + end;
  while ((p = memchr(p, '"', (size_t)(e - p))) != NULL) {
    if ((size_t)(e - p) < TIME_LEN) return NULL;
    if (memcmp(p, TIME, TIME_LEN) == 0) return p;
    p++;
  }
  return NULL;
}

/** The last `"publishedAt":` in v[start, end), or NULL (SseMeter: lastIndexOf, snapshots carry it at the end). */
static const char *last_published_at(const char *v, size_t start, size_t end) {
  if (end - start < PUBLISHED_AT_LEN) return NULL;
  size_t n = end - PUBLISHED_AT_LEN + 1 - start;  // candidate starts: v[start, end - len]
  const char *p;
  while (n > 0 && (p = memrchr(v + start, '"', n)) != NULL) {
    if (memcmp(p, PUBLISHED_AT, PUBLISHED_AT_LEN) == 0) return p;
    n = (size_t)(p - (v + start));
  }
  return NULL;
}

/** Whether the event is a delta (?format=delta, no publishedAt): its `event:` line follows the `id:` line. */
static int is_delta(const char *v, size_t start, size_t end) {
  size_t n = end - start < 64 ? end - start : 64;
  return memmem(v + start, n, DELTA_LINE, DELTA_LINE_LEN) != NULL;
}

/** One event, bytes [start, end) of v (v holds len bytes), without its blank line. */
static void event(Conn *c, const char *v, size_t len, size_t start, size_t end) {
  if (v[start] == ':' || end - start < PUBLISHED_AT_LEN) return;
  const char *p = last_published_at(v, start, end);
  int delta = !p && is_delta(v, start, end);
  if (!p && !delta) return;
  const char *t = first_time(v, start, end);
  if (!t) return;
  int64_t tick = iso_millis(v, len, (size_t)(t - v) + TIME_LEN);
  // A delta's latency is counted from its tick instant (SseMeter does the same).
  int64_t published_at = delta ? tick : digits(v, (size_t)(p - v) + PUBLISHED_AT_LEN, end);
  if (published_at < 0 || tick < 0) return;
  if (tick < w0 || tick >= w1) return;
  if (tick <= c->last_tick) {
    duplicates++;
    return;
  }
  c->last_tick = tick;
  received[c->channel]++;
  record(read_at - published_at);
  int64_t sec = (tick - w0) / 1000;
  if (sec >= 0 && sec < SECONDS) {
    int64_t v = read_at - published_at;
    sec_count[sec]++;
    if (v > sec_max[sec]) sec_max[sec] = v;
    if (v > 200) sec_over[sec]++;
  }
}

static void fail(Conn *c, const char *reason);

/** Events in v[0..len); returns where the unfinished tail starts. */
static size_t events(Conn *c, const char *v, size_t len) {
  size_t from = 0;
  for (;;) {
    // the blank line ending an event: a newline followed by a newline
    const char *at = v + from;
    for (;;) {
      at = memchr(at, '\n', len - (size_t)(at - v));
      if (!at || at + 1 >= v + len) return from;
      if (at[1] == '\n') break;
      at += 1;
    }
    size_t a = (size_t)(at - v);
    event(c, v, len, from, a);
    from = a + 2;
  }
}

/** SSE bytes [start, end) of buf. */
static void body(Conn *c, const char *buf, size_t start, size_t end) {
  if (c->carry_len) {
    size_t need = c->carry_len + (end - start);
    if (need > c->carry_cap) {
      size_t cap = c->carry_cap * 2;
      if (cap < need) cap = need;
      char *n = realloc(c->carry, cap);
      if (!n) die("realloc");
      c->carry = n;
      c->carry_cap = (uint32_t)cap;
    }
    memcpy(c->carry + c->carry_len, buf + start, end - start);
    size_t len = need;
    size_t from = events(c, c->carry, len);
    size_t rest = len - from;
    if (rest > MAX_CARRY) {
      fail(c, "event larger than 1 MiB");
      return;
    }
    if (rest == 0) {
      free(c->carry);
      c->carry = NULL;
      c->carry_cap = 0;
    } else if (from) {
      memmove(c->carry, c->carry + from, rest);
    }
    c->carry_len = (uint32_t)rest;
    return;
  }
  size_t from = start + events(c, buf + start, end - start);
  size_t rest = end - from;
  if (rest == 0) return;
  if (rest > MAX_CARRY) {
    fail(c, "event larger than 1 MiB");
    return;
  }
  size_t cap = rest < 512 ? 512 : rest;
  c->carry = malloc(cap);
  if (!c->carry) die("malloc");
  c->carry_cap = (uint32_t)cap;
  memcpy(c->carry, buf + from, rest);
  c->carry_len = (uint32_t)rest;
}

static void fail(Conn *c, const char *reason) {
  // only the first reason matters, and only while connecting (SseMeter.failure is read at the head)
  if (!c->established) count_failure(reason);
  c->phase = DONE;
  free(c->carry);
  c->carry = NULL;
  c->carry_len = c->carry_cap = 0;
}

static int lower_prefix_eq(const char *s, size_t n, const char *lit) {
  size_t m = strlen(lit);
  if (n < m) return 0;
  for (size_t i = 0; i < m; i++) {
    char ch = s[i];
    if (ch >= 'A' && ch <= 'Z') ch += 32;
    if (ch != lit[i]) return 0;
  }
  return 1;
}

static void trim(const char **s, size_t *n) {
  while (*n && ((*s)[0] == ' ' || (*s)[0] == '\t')) (*s)++, (*n)--;
  while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r')) (*n)--;
}

/** The complete head h[0..n) (without its blank line): status, content-type, transfer-encoding. */
static void parse_head(Conn *c, const char *h, size_t n) {
  const char *eol = memmem(h, n, "\r\n", 2);
  size_t first = eol ? (size_t)(eol - h) : n;
  int status = 0;
  if (first >= 12 && memcmp(h, "HTTP/1.", 7) == 0 && (h[7] == '0' || h[7] == '1') && h[8] == ' ' && h[9] >= '0' &&
      h[9] <= '9' && h[10] >= '0' && h[10] <= '9' && h[11] >= '0' && h[11] <= '9')
    status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
  char type[256] = "";
  int chunked = 0;
  size_t i = eol ? first + 2 : n;
  while (i < n) {
    const char *e = memmem(h + i, n - i, "\r\n", 2);
    size_t end = e ? (size_t)(e - h) : n;
    const char *line = h + i;
    size_t len = end - i;
    const char *colon = memchr(line, ':', len);
    if (colon) {
      const char *name = line;
      size_t name_len = (size_t)(colon - line);
      trim(&name, &name_len);
      const char *value = colon + 1;
      size_t value_len = (size_t)(line + len - value);
      trim(&value, &value_len);
      if (name_len == 12 && lower_prefix_eq(name, name_len, "content-type")) {
        size_t k = value_len < sizeof type - 1 ? value_len : sizeof type - 1;
        for (size_t j = 0; j < k; j++) type[j] = (value[j] >= 'A' && value[j] <= 'Z') ? value[j] + 32 : value[j];
        type[k] = 0;
      } else if (name_len == 17 && lower_prefix_eq(name, name_len, "transfer-encoding")) {
        chunked = 0;
        for (size_t j = 0; j + 7 <= value_len; j++)
          if (lower_prefix_eq(value + j, value_len - j, "chunked")) chunked = 1;
      }
    }
    i = end + 2;
  }
  char reason[300];
  if (status != 200) {
    if (status) snprintf(reason, sizeof reason, "HTTP %d", status);
    else snprintf(reason, sizeof reason, "HTTP ?");
    fail(c, reason);
  } else if (strncmp(type, "text/event-stream", 17) != 0) {
    snprintf(reason, sizeof reason, "content-type %s", type[0] ? type : "(none)");
    fail(c, reason);
  } else {
    c->phase = chunked ? CHUNK_SIZE : RAW;
  }
}

/** Head bytes [i, end) of buf; returns where the body starts, or end. */
static size_t read_head(Conn *c, const char *buf, size_t i, size_t end) {
  size_t old = c->head_len;
  size_t n = end - i;
  char *h = realloc(c->head, old + n + 1);
  if (!h) die("realloc");
  c->head = h;
  memcpy(h + old, buf + i, n);
  size_t total = old + n;
  // the blank line may straddle the previous read
  size_t from = old >= 3 ? old - 3 : 0;
  const char *at = memmem(h + from, total - from, "\r\n\r\n", 4);
  if (!at) {
    c->head_len = (uint32_t)total;
    if (total > MAX_HEAD) {
      free(c->head);
      c->head = NULL;
      c->head_len = 0;
      fail(c, "response head too long");
    }
    return end;
  }
  size_t head_end = (size_t)(at - h);
  parse_head(c, h, head_end);
  free(c->head);
  c->head = NULL;
  c->head_len = 0;
  return i + (head_end + 4 - old);
}

static int head_known(const Conn *c) { return c->phase != HEAD; }

static void feed(Conn *c, const char *buf, size_t i, size_t end) {
  while (i < end && c->phase != DONE) {
    switch (c->phase) {
      case HEAD:
        i = read_head(c, buf, i, end);
        break;
      case RAW:
        body(c, buf, i, end);
        i = end;
        break;
      case CHUNK_SIZE: {
        const char *lf = memchr(buf + i, '\n', end - i);
        if (!lf) {
          size_t n = end - i;
          if (c->size_len + n > 64) {
            fail(c, "chunk size line too long");
            i = end;
            break;
          }
          memcpy(c->size_line + c->size_len, buf + i, n);
          c->size_len += (uint8_t)n;
          i = end;
          break;
        }
        size_t n = (size_t)(lf - (buf + i));
        char line[160];
        size_t len = 0;
        memcpy(line, c->size_line, c->size_len);
        len = c->size_len;
        size_t take = n < sizeof line - 1 - len ? n : sizeof line - 1 - len;
        memcpy(line + len, buf + i, take);
        len += take;
        line[len] = 0;
        c->size_len = 0;
        i += n + 1;
        // parseInt(line.trim().split(';')[0], 16): leading whitespace, optional sign, hex digits up to the first non-hex
        const char *s = line;
        while (*s == ' ' || *s == '\t' || *s == '\r') s++;
        long long size = 0;
        int any = 0;
        for (;; s++) {
          int d;
          if (*s >= '0' && *s <= '9') d = *s - '0';
          else if (*s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
          else if (*s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
          else break;
          size = size * 16 + d;
          any = 1;
          if (size > 0x7fffffff) break;
        }
        if (!any || size > 0x7fffffff) {
          fail(c, "bad chunk size");
          break;
        }
        if (size == 0) {
          c->phase = DONE;
          break;
        }
        c->chunk_left = (uint32_t)size;
        c->phase = CHUNK_DATA;
        break;
      }
      case CHUNK_DATA: {
        size_t n = end - i < c->chunk_left ? end - i : c->chunk_left;
        body(c, buf, i, i + n);
        i += n;
        c->chunk_left -= (uint32_t)n;
        if (c->chunk_left == 0 && c->phase == CHUNK_DATA) {
          c->phase = CHUNK_END;
          c->end_left = 2;
        }
        break;
      }
      case CHUNK_END: {
        size_t n = end - i < c->end_left ? end - i : c->end_left;
        i += n;
        c->end_left -= (uint8_t)n;
        if (c->end_left == 0) c->phase = CHUNK_SIZE;
        break;
      }
    }
  }
}

// ---- connections ----

static void maybe_all_settled(void) {
  if (!all_settled_sent && planned && next_conn >= n_plan && in_flight == 0) {
    all_settled_sent = 1;
    send_connected();
  }
}

static void settle(Conn *c) {
  if (c->settled) return;
  c->settled = 1;
  in_flight--;
  int64_t now = now_ms();
  if (now - last_progress > 1000) {
    last_progress = now;
    send_progress();
  }
  maybe_all_settled();
}

static void close_conn(int fd) {
  Conn *c = &conns[fd];
  free(c->head);
  free(c->carry);
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
  memset(c, 0, sizeof *c);
}

/** The connection ended (EOF, error) or is given up; `err` names why when it never got a response. */
static void end_conn(int fd, const char *err) {
  Conn *c = &conns[fd];
  if (c->established) dropped_n++;
  else if (!c->settled) {
    failed_n++;
    count_failure(err ? err : "closed before response");
  }
  settle(c);
  close_conn(fd);
}

static void open_one(const Plan *p) {
  in_flight++;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    in_flight--;
    failed_n++;
    count_failure(errno_name(errno));
    return;
  }
  if (fd >= max_fds) {
    close(fd);
    in_flight--;
    failed_n++;
    count_failure("EMFILE");
    return;
  }
  Conn *c = &conns[fd];
  memset(c, 0, sizeof *c);
  c->in_use = 1;
  c->channel = p->channel;
  c->port = p->port;
  c->phase = HEAD;
  c->io = CONNECTING;
  int one = 1;
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr = p->src, .sin_port = 0};
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(p->port)};
  inet_pton(AF_INET, host, &dst.sin_addr);
  struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};
  if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0 ||
      (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS) ||
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
    end_conn(fd, errno_name(errno));
    return;
  }
}

static void pump(void) {
  while (planned && in_flight < concurrency && next_conn < n_plan) open_one(&plan[next_conn++]);
  maybe_all_settled();
}

static void on_writable(int fd) {
  Conn *c = &conns[fd];
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err) {
    end_conn(fd, errno_name(err));
    return;
  }
  char req[1200];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%u\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n",
                   paths[c->channel], host, c->port);
  if (n < 0 || n >= (int)sizeof req) {
    end_conn(fd, "request path too long");
    return;
  }
  ssize_t w = write(fd, req, (size_t)n);
  if (w != n) {
    end_conn(fd, w < 0 ? errno_name(errno) : "short request write");
    return;
  }
  c->io = STREAMING;
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0) end_conn(fd, errno_name(errno));
}

static void on_readable(int fd) {
  Conn *c = &conns[fd];
  ssize_t n = read(fd, rbuf, sizeof rbuf);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    end_conn(fd, errno_name(errno));
    return;
  }
  if (n == 0) {
    end_conn(fd, NULL);
    return;
  }
  read_at = now_ms();
  if (read_at >= w0 && read_at < w1) reads++;
  if (c->phase == DONE) return;  // a stream that ended or broke: bytes ignored until the server closes
  feed(c, rbuf, 0, (size_t)n);
  if (!c->established && head_known(c)) {
    if (c->phase == DONE) {
      // failure at the head (fail() counted the reason)
      failed_n++;
      settle(c);
      close_conn(fd);
    } else {
      c->established = 1;
      connected_n++;
      established_by_channel[c->channel]++;
      settle(c);
    }
  } else if (!c->established && c->phase == DONE) {
    // head never completed (too long)
    failed_n++;
    settle(c);
    close_conn(fd);
  }
}

// ---- commands on stdin ----

static char inbuf[1 << 16];
static size_t inlen;

static void command(char *line) {
  if (!planned) {
    if (strncmp(line, "host ", 5) == 0) {
      snprintf(host, sizeof host, "%s", line + 5);
    } else if (strncmp(line, "concurrency ", 12) == 0) {
      concurrency = atoi(line + 12);
      if (concurrency < 1) concurrency = 1;
    } else if (strncmp(line, "path ", 5) == 0) {
      if (n_paths == cap_paths) {
        cap_paths = cap_paths ? cap_paths * 2 : 64;
        paths = realloc(paths, sizeof *paths * (size_t)cap_paths);
        if (!paths) die("realloc");
      }
      paths[n_paths++] = strdup(line + 5);
    } else if (strncmp(line, "conn ", 5) == 0) {
      unsigned port, channel;
      char addr[64];
      if (sscanf(line + 5, "%u %u %63s", &port, &channel, addr) != 3 || (int)channel >= n_paths || port > 65535) {
        fprintf(stderr, "load-client: bad plan line: %s\n", line);
        exit(2);
      }
      if (n_plan == cap_plan) {
        cap_plan = cap_plan ? cap_plan * 2 : 1024;
        plan = realloc(plan, sizeof *plan * (size_t)cap_plan);
        if (!plan) die("realloc");
      }
      Plan *p = &plan[n_plan++];
      p->port = (uint16_t)port;
      p->channel = (uint16_t)channel;
      if (inet_pton(AF_INET, addr, &p->src) != 1) {
        fprintf(stderr, "load-client: bad source address: %s\n", addr);
        exit(2);
      }
    } else if (strcmp(line, "go") == 0) {
      received = calloc((size_t)n_paths + 1, sizeof *received);
      established_by_channel = calloc((size_t)n_paths + 1, sizeof *established_by_channel);
      if (!received || !established_by_channel) die("calloc");
      planned = 1;
    } else if (line[0]) {
      fprintf(stderr, "load-client: unknown plan line: %s\n", line);
      exit(2);
    }
    return;
  }
  if (strncmp(line, "window ", 7) == 0) {
    long long a, b;
    if (sscanf(line + 7, "%lld %lld", &a, &b) == 2) {
      w0 = a;
      w1 = b;
      getrusage(RUSAGE_SELF, &ru_window);
      have_window_ru = 1;
    }
  } else if (strcmp(line, "report") == 0) {
    send_result();
  } else if (strcmp(line, "stop") == 0) {
    exit(0);
  } else if (line[0]) {
    fprintf(stderr, "load-client: unknown command: %s\n", line);
  }
}

static void on_stdin(void) {
  for (;;) {
    ssize_t n = read(0, inbuf + inlen, sizeof inbuf - 1 - inlen);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      die("read stdin");
    }
    if (n == 0) exit(0);  // the wrapper is gone: do not keep thousands of sockets open
    inlen += (size_t)n;
    size_t from = 0;
    for (;;) {
      char *nl = memchr(inbuf + from, '\n', inlen - from);
      if (!nl) break;
      *nl = 0;
      command(inbuf + from);
      from = (size_t)(nl - inbuf) + 1;
    }
    memmove(inbuf, inbuf + from, inlen - from);
    inlen -= from;
    if (inlen == sizeof inbuf - 1) {
      fprintf(stderr, "load-client: stdin line too long\n");
      exit(2);
    }
  }
}

int main(void) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) die("getrlimit");
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  max_fds = rl.rlim_cur > 1 << 20 ? 1 << 20 : (int)rl.rlim_cur;
  conns = calloc((size_t)max_fds, sizeof *conns);
  if (!conns) die("calloc");
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  struct epoll_event sev = {.events = EPOLLIN, .data.fd = 0};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev) < 0) die("epoll_ctl stdin");
  struct epoll_event evs[1024];
  for (;;) {
    pump();
    int n = epoll_wait(ep, evs, 1024, 1000);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int k = 0; k < n; k++) {
      int fd = evs[k].data.fd;
      if (fd == 0) {
        on_stdin();
        continue;
      }
      Conn *c = &conns[fd];
      if (!c->in_use) continue;  // closed earlier in this batch
      if (c->io == CONNECTING) on_writable(fd);
      else on_readable(fd);
    }
  }
}
