/*
 * Zero-copy transfers for Ferry's plain (non-TLS, TYPE I) downloads and uploads.
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
 *   receive(socketFd, fileFd, offset, 0, idleTimeoutMs, control: Int32Array)
 *     -> Promise<number>   bytes written to the file from `offset` until the peer's EOF,
 *                          moved socket -> pipe -> file with splice(2)
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <stdlib.h>
#include <stdint.h>
#include <fcntl.h>
#include <unistd.h>
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
  int receive; /* 1: socket -> file (splice), 0: file -> socket (sendfile) */
  int err;
  napi_ref control_ref;
  napi_deferred deferred;
  napi_async_work work;
} Job;

/* Waits for the socket to be ready; 0 to go on, else the errno to stop with. */
static int wait_ready(Job *job, short events, int *idle_ms) {
  if (job->cancel[0] != 0) return ECANCELED;
  struct pollfd pfd = {job->out_fd, events, 0};
  int ready = poll(&pfd, 1, POLL_SLICE_MS);
  if (ready < 0) return errno == EINTR ? 0 : errno;
  if (ready == 0) {
    *idle_ms += POLL_SLICE_MS;
    return *idle_ms >= job->idle_timeout_ms ? ETIMEDOUT : 0;
  }
  if (pfd.revents & POLLNVAL) return EBADF;
  /* POLLERR/POLLHUP with POLLIN still has data or EOF to read: let splice say which. */
  if ((pfd.revents & (POLLERR | POLLHUP)) && !(pfd.revents & POLLIN)) return events == POLLIN ? ECONNRESET : EPIPE;
  return 0;
}

/* socket -> pipe -> file until EOF. out_fd is the socket here, in_fd the file. */
static void execute_receive(Job *job) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    job->err = errno;
    return;
  }
  loff_t offset = (loff_t)job->offset;
  int idle_ms = 0;
  for (;;) {
    if (job->cancel[0] != 0) {
      job->err = ECANCELED;
      break;
    }
    ssize_t n = splice(job->out_fd, NULL, pipefd[1], NULL, 1 << 20, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n == 0) break; /* the client finished the upload */
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        job->err = errno;
        break;
      }
      int stop = wait_ready(job, POLLIN, &idle_ms);
      if (stop != 0) {
        job->err = stop;
        break;
      }
      continue;
    }
    idle_ms = 0;
    while (n > 0) {
      ssize_t m = splice(pipefd[0], NULL, job->in_fd, &offset, (size_t)n, SPLICE_F_MOVE);
      if (m < 0 && errno == EINTR) continue;
      if (m <= 0) {
        job->err = m < 0 ? errno : EIO;
        break;
      }
      n -= m;
      job->sent += m;
    }
    if (job->err != 0) break;
  }
  close(pipefd[0]);
  close(pipefd[1]);
}

static void execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  if (job->receive) {
    execute_receive(job);
    return;
  }
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
    int stop = wait_ready(job, POLLOUT, &idle_ms);
    if (stop != 0) {
      job->err = stop;
      return;
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
    case ENOSPC: return "ENOSPC";
    case EDQUOT: return "EDQUOT";
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

static napi_value start(napi_env env, napi_callback_info info, int receive) {
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
  job->receive = receive;
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

static napi_value start_send(napi_env env, napi_callback_info info) { return start(env, info, 0); }
static napi_value start_receive(napi_env env, napi_callback_info info) { return start(env, info, 1); }

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "sendfile", NAPI_AUTO_LENGTH, start_send, NULL, &fn);
  napi_set_named_property(env, exports, "sendfile", fn);
  napi_create_function(env, "receive", NAPI_AUTO_LENGTH, start_receive, NULL, &fn);
  napi_set_named_property(env, exports, "receive", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
