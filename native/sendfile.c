/*
 * Zero-copy file-to-socket transfer for Ferry's plain (non-TLS, TYPE I) downloads.
 *
 * Node copies every chunk of a download from the kernel into JavaScript and back;
 * sendfile(2) moves the bytes from the page cache to the socket inside the kernel, as
 * vsftpd does. The loop runs on a libuv thread-pool thread. The socket is non-blocking
 * (libuv owns it), so EAGAIN waits in poll(2) with a short timeout, during which a
 * cancel flag written by JavaScript (an Int32Array) is checked: the descriptors are never
 * closed while this thread uses them -- JavaScript waits for the promise first.
 *
 *   sendfile(socketFd, fileFd, offset, count, idleTimeoutMs, control: Int32Array)
 *     -> Promise<number>   bytes sent; rejects with an Error whose .code is the errno name
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/sendfile.h>

#define POLL_SLICE_MS 100
#define MAX_CHUNK (1 << 30)

typedef struct {
  int out_fd;
  int in_fd;
  int64_t offset;
  int64_t count;
  int64_t sent;
  int idle_timeout_ms;
  volatile int32_t *cancel;
  int err;
  napi_ref control_ref;
  napi_deferred deferred;
  napi_async_work work;
} Job;

static void execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  off_t offset = (off_t)job->offset;
  int idle_ms = 0;
  while (job->sent < job->count) {
    if (job->cancel[0] != 0) {
      job->err = ECANCELED;
      return;
    }
    int64_t left = job->count - job->sent;
    ssize_t n = sendfile(job->out_fd, job->in_fd, &offset, (size_t)(left > MAX_CHUNK ? MAX_CHUNK : left));
    if (n > 0) {
      job->sent += n;
      idle_ms = 0;
      continue;
    }
    if (n == 0) return; /* the file is shorter than expected: stop at its end */
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      job->err = errno;
      return;
    }
    struct pollfd pfd = {job->out_fd, POLLOUT, 0};
    int ready = poll(&pfd, 1, POLL_SLICE_MS);
    if (ready < 0 && errno != EINTR) {
      job->err = errno;
      return;
    }
    if (ready > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))) {
      job->err = EPIPE;
      return;
    }
    if (ready == 0) {
      idle_ms += POLL_SLICE_MS;
      if (idle_ms >= job->idle_timeout_ms) {
        job->err = ETIMEDOUT;
        return;
      }
    }
  }
}

static const char *errno_name(int err) {
  switch (err) {
    case EPIPE: return "EPIPE";
    case ECONNRESET: return "ECONNRESET";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ECANCELED: return "ECANCELED";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EIO: return "EIO";
    default: return "EIO";
  }
}

static void complete(napi_env env, napi_status status, void *data) {
  Job *job = data;
  napi_value result;
  if (status == napi_ok && job->err == 0) {
    napi_create_int64(env, job->sent, &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    int err = job->err != 0 ? job->err : EIO;
    napi_value code, message;
    napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, code, message, &result);
    napi_value sent;
    napi_create_int64(env, job->sent, &sent);
    napi_set_named_property(env, result, "bytesSent", sent);
    napi_reject_deferred(env, job->deferred, result);
  }
  napi_delete_reference(env, job->control_ref);
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 6) {
    napi_throw_type_error(env, NULL, "sendfile(socketFd, fileFd, offset, count, idleTimeoutMs, control)");
    return NULL;
  }
  Job *job = calloc(1, sizeof(Job));
  if (job == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  int32_t out_fd, in_fd, idle;
  napi_get_value_int32(env, argv[0], &out_fd);
  napi_get_value_int32(env, argv[1], &in_fd);
  napi_get_value_int64(env, argv[2], &job->offset);
  napi_get_value_int64(env, argv[3], &job->count);
  napi_get_value_int32(env, argv[4], &idle);
  job->out_fd = out_fd;
  job->in_fd = in_fd;
  job->idle_timeout_ms = idle > 0 ? idle : 300000;
  napi_typedarray_type type;
  size_t length;
  void *control = NULL;
  if (napi_get_typedarray_info(env, argv[5], &type, &length, &control, NULL, NULL) != napi_ok || type != napi_int32_array || length < 1) {
    free(job);
    napi_throw_type_error(env, NULL, "control must be an Int32Array");
    return NULL;
  }
  job->cancel = (volatile int32_t *)control;
  napi_create_reference(env, argv[5], 1, &job->control_ref); /* keeps the flag alive */
  napi_value promise, name;
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "ferry:sendfile", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "sendfile", NAPI_AUTO_LENGTH, start, NULL, &fn);
  napi_set_named_property(env, exports, "sendfile", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
