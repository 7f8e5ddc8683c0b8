/*
 * One message to many sockets in one call from JavaScript. The hub frames a message once; through Node's net.Socket
 * each client's write then costs a JS → C++ transition, a WriteWrap object, stream bookkeeping and a deferred
 * callback: beside the kernel's send, that user-space work is a large share of an API node's CPU under fan-out (the
 * figures are in BENCHMARKS.md). Here the same bytes go to every descriptor in a loop of non-blocking send() calls,
 * and the caller learns, per descriptor, what the kernel took. Anything it did not take (a full socket buffer, a broken connection) is handed back to Node's own write path
 * by the caller, which queues it or reports the error as usual.
 *
 * writeAll(fds: Int32Array, count: number, bytes: Uint8Array, results: Int32Array): undefined
 *   results[i] = bytes sent to fds[i] (possibly fewer than bytes.length), or -errno.
 *
 * kernelQueues(fds: Int32Array, count: number, queued: Int32Array, acked: Float64Array): undefined
 *   For the slow-client check (src/fastpath/kernel-stall.ts), never per message: queued[i] = bytes in fds[i]'s send queue
 *   not yet acknowledged by the peer (ioctl SIOCOUTQ), acked[i] = bytes the peer has acknowledged over the
 *   connection's life (TCP_INFO tcpi_bytes_acked; 0, not asked, when nothing is queued); -errno in queued[i] when
 *   either call fails.
 *
 * Node-API only, so one build serves every Node version from 20 on.
 */
#include <errno.h>
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <linux/tcp.h>

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static int typed_array(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  if (napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == want;
}

static napi_value write_all(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) return throw_type(env, "writeAll(fds, count, bytes, results)");
  int32_t *fds, *results;
  uint8_t *bytes;
  size_t nfds, nbytes, nresults;
  uint32_t count;
  if (!typed_array(env, argv[0], napi_int32_array, (void **)&fds, &nfds)) return throw_type(env, "fds must be an Int32Array");
  if (napi_get_value_uint32(env, argv[1], &count) != napi_ok) return throw_type(env, "count must be a non-negative integer");
  if (!typed_array(env, argv[2], napi_uint8_array, (void **)&bytes, &nbytes)) return throw_type(env, "bytes must be a Uint8Array");
  if (!typed_array(env, argv[3], napi_int32_array, (void **)&results, &nresults)) return throw_type(env, "results must be an Int32Array");
  if (count > nfds || count > nresults) return throw_type(env, "count exceeds fds or results");

  for (uint32_t i = 0; i < count; i++) {
    ssize_t n;
    /* MSG_NOSIGNAL: a peer that has gone away is an EPIPE result, not a SIGPIPE for the whole process. */
    do n = send(fds[i], bytes, nbytes, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    results[i] = n >= 0 ? (int32_t)n : -errno;
  }
  return NULL;
}

static napi_value kernel_queues(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) return throw_type(env, "kernelQueues(fds, count, queued, acked)");
  int32_t *fds, *queued;
  double *acked;
  size_t nfds, nqueued, nacked;
  uint32_t count;
  if (!typed_array(env, argv[0], napi_int32_array, (void **)&fds, &nfds)) return throw_type(env, "fds must be an Int32Array");
  if (napi_get_value_uint32(env, argv[1], &count) != napi_ok) return throw_type(env, "count must be a non-negative integer");
  if (!typed_array(env, argv[2], napi_int32_array, (void **)&queued, &nqueued)) return throw_type(env, "queued must be an Int32Array");
  if (!typed_array(env, argv[3], napi_float64_array, (void **)&acked, &nacked)) return throw_type(env, "acked must be a Float64Array");
  if (count > nfds || count > nqueued || count > nacked) return throw_type(env, "count exceeds fds, queued or acked");

  for (uint32_t i = 0; i < count; i++) {
    int outq = 0;
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (ioctl(fds[i], SIOCOUTQ, &outq) < 0) {
      queued[i] = -errno;
      acked[i] = 0;
      continue;
    }
    queued[i] = outq;
    /* Nothing waiting (most sockets, most of the time): no need for the heavier TCP_INFO. */
    if (outq == 0) {
      acked[i] = 0;
      continue;
    }
    if (getsockopt(fds[i], IPPROTO_TCP, TCP_INFO, &ti, &len) < 0) {
      queued[i] = -errno;
      acked[i] = 0;
      continue;
    }
    /* Older kernels fill a shorter struct: no counter there, so the check sees no progress only from the queue. */
    acked[i] = len >= offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof ti.tcpi_bytes_acked ? (double)ti.tcpi_bytes_acked : -1;
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "writeAll", NAPI_AUTO_LENGTH, write_all, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "writeAll", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "kernelQueues", NAPI_AUTO_LENGTH, kernel_queues, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "kernelQueues", fn) != napi_ok) return NULL;
  return exports;
}
