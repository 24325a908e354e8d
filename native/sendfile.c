/*
 * Zero-copy transfers for Ferry's plain (non-TLS, TYPE I) downloads and uploads.
 *
 * Node copies every chunk of a download from the kernel into JavaScript and back;
 * sendfile(2) moves the bytes from the page cache to the socket inside the kernel, as
 * vsftpd does. Each transfer runs on its OWN thread, never on libuv's thread pool: a
 * stalled peer would otherwise hold one of the pool's few threads until the idle timeout,
 * and every fs call and scrypt check of every other session would queue behind it.
 * JavaScript bounds how many of these threads exist (limits.zero_copy_threads).
 *
 * The socket is non-blocking (libuv owns it), so EAGAIN waits in poll(2) on the socket
 * and an eventfd: cancel() writes the eventfd, which wakes the thread at once, and an
 * idle transfer costs no CPU. The descriptors are never closed while the thread uses
 * them: JavaScript waits for `done` first.
 *
 *   sendfile(socketFd, fileFd, offset, count, idleTimeoutMs) -> NativeTransfer | null
 *       sends `count` bytes of the file from `offset`
 *   receive(socketFd, fileFd, offset, idleTimeoutMs) -> NativeTransfer | null
 *       writes to the file from `offset` until the peer's EOF, socket -> pipe -> file
 *       with splice(2)
 *
 * NativeTransfer is { done: Promise<number>, cancel(): void }: `done` resolves with the
 * bytes moved, or rejects with an Error whose .code is the errno name (ETIMEDOUT when the
 * peer was idle for idleTimeoutMs, ECANCELED after cancel()). null means no thread could
 * be started; the caller uses its stream path instead.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHUNK (1 << 30)
#define THREAD_STACK_BYTES (256 * 1024)

typedef struct {
  int socket_fd;
  int file_fd;
  int64_t offset;
  int64_t count;
  int64_t moved;
  int idle_timeout_ms;
  int receive; /* 1: socket -> file (splice), 0: file -> socket (sendfile) */
  int err;
  int wake_fd;            /* eventfd written by cancel(); closed once settled (not left to GC) */
  atomic_int cancelled;
  /* Freed when both the JS side (the cancel function) is collected and the thread's side
   * is done. Both are dropped on the JS thread; atomic for the record. */
  atomic_int refs;
  napi_deferred deferred;
  napi_threadsafe_function tsfn;
  /* The thread is joined (on the JS thread) once it is done: env teardown (a worker
   * ending, the process exiting) must not go on while it still uses the descriptors, the
   * threadsafe function (which Node frees) or this addon's code (which a worker unloads). */
  pthread_t thread;
  int joined;
  pthread_mutex_t lock; /* orders env_closing against the delivery */
  int env_closing;
  int delivered; /* the completion went into the threadsafe function's queue */
} Job;

/* Every caller runs on the JS thread. */
static void close_wake_fd(Job *job) {
  if (job->wake_fd < 0) return;
  close(job->wake_fd);
  job->wake_fd = -1;
}

static void job_unref(Job *job) {
  if (atomic_fetch_sub(&job->refs, 1) != 1) return;
  close_wake_fd(job);
  pthread_mutex_destroy(&job->lock);
  free(job);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits until the socket is ready, the transfer is cancelled or the peer has been idle
 * past the deadline. 0 to go on, else the errno to stop with.
 */
static int wait_ready(Job *job, short events, int64_t idle_deadline) {
  for (;;) {
    if (atomic_load(&job->cancelled)) return ECANCELED;
    int64_t left = idle_deadline - now_ms();
    if (left <= 0) return ETIMEDOUT;
    struct pollfd pfd[2] = {{job->socket_fd, events, 0}, {job->wake_fd, POLLIN, 0}};
    int ready = poll(pfd, 2, left > INT32_MAX ? INT32_MAX : (int)left);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (ready == 0) continue; /* the deadline check above decides */
    if (pfd[1].revents != 0) return ECANCELED;
    if (pfd[0].revents & POLLNVAL) return EBADF;
    /* POLLERR/POLLHUP with POLLIN still has data or EOF to read: let splice say which. */
    if ((pfd[0].revents & (POLLERR | POLLHUP)) && !(pfd[0].revents & POLLIN)) return events == POLLIN ? ECONNRESET : EPIPE;
    return 0;
  }
}

/* socket -> pipe -> file until EOF. */
static void run_receive(Job *job) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    job->err = errno;
    return;
  }
  loff_t offset = (loff_t)job->offset;
  int64_t idle_deadline = now_ms() + job->idle_timeout_ms;
  while (job->err == 0) {
    if (atomic_load(&job->cancelled)) {
      job->err = ECANCELED;
      break;
    }
    ssize_t n = splice(job->socket_fd, NULL, pipefd[1], NULL, 1 << 20, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n == 0) break; /* the client finished the upload */
    if (n < 0) {
      if (errno == EINTR) continue;
      job->err = errno == EAGAIN ? wait_ready(job, POLLIN, idle_deadline) : errno;
      continue;
    }
    idle_deadline = now_ms() + job->idle_timeout_ms;
    while (n > 0) {
      ssize_t m = splice(pipefd[0], NULL, job->file_fd, &offset, (size_t)n, SPLICE_F_MOVE);
      if (m < 0 && errno == EINTR) continue;
      if (m <= 0) {
        job->err = m < 0 ? errno : EIO;
        break;
      }
      n -= m;
      job->moved += m;
    }
  }
  close(pipefd[0]);
  close(pipefd[1]);
}

/* file -> socket until `count` bytes or the file's end. */
static void run_send(Job *job) {
  off_t offset = (off_t)job->offset;
  int64_t idle_deadline = now_ms() + job->idle_timeout_ms;
  while (job->moved < job->count && job->err == 0) {
    if (atomic_load(&job->cancelled)) {
      job->err = ECANCELED;
      break;
    }
    int64_t left = job->count - job->moved;
    ssize_t n = sendfile(job->socket_fd, job->file_fd, &offset, (size_t)(left > MAX_CHUNK ? MAX_CHUNK : left));
    if (n > 0) {
      job->moved += n;
      idle_deadline = now_ms() + job->idle_timeout_ms;
    } else if (n == 0) {
      break; /* the file is shorter than expected: stop at its end */
    } else if (errno != EINTR) {
      job->err = errno == EAGAIN ? wait_ready(job, POLLOUT, idle_deadline) : errno;
    }
  }
}

static void *thread_main(void *data) {
  Job *job = data;
  if (job->receive) run_receive(job);
  else run_send(job);
  pthread_mutex_lock(&job->lock);
  if (!job->env_closing) {
    job->delivered = napi_call_threadsafe_function(job->tsfn, job, napi_tsfn_nonblocking) == napi_ok;
    napi_release_threadsafe_function(job->tsfn, napi_tsfn_release);
  }
  pthread_mutex_unlock(&job->lock);
  /* Not touched again: settle() or, without a delivery, on_env_cleanup() joins us and drops our reference. */
  return NULL;
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

/* On the JS thread; after settle() the thread is gone and there is nothing to wake. */
static void cancel_job(Job *job) {
  atomic_store(&job->cancelled, 1);
  if (job->wake_fd < 0) return;
  uint64_t one = 1;
  ssize_t ignored = write(job->wake_fd, &one, sizeof one); /* a full counter is still readable */
  (void)ignored;
}

/* On the JS thread, once the thread is done or about to be (it has nothing left that blocks). */
static void join_thread(Job *job) {
  if (job->joined) return;
  pthread_join(job->thread, NULL);
  job->joined = 1;
}

/* Env teardown: stop the thread at once and wait for it to end. */
static void on_env_cleanup(void *data) {
  Job *job = data;
  pthread_mutex_lock(&job->lock);
  job->env_closing = 1;
  pthread_mutex_unlock(&job->lock);
  cancel_job(job);
  join_thread(job);
  /* Delivered: Node hands the queued completion to settle() with a NULL env. */
  if (!job->delivered) job_unref(job);
}

/* On the JS thread once the transfer thread is done (env is NULL when Node tears the tsfn down). */
static void settle(napi_env env, napi_value js_callback, void *context, void *data) {
  (void)js_callback;
  (void)context;
  Job *job = data;
  if (env != NULL) {
    napi_remove_env_cleanup_hook(env, on_env_cleanup, job);
    napi_value result;
    if (job->err == 0) {
      napi_create_int64(env, job->moved, &result);
      napi_resolve_deferred(env, job->deferred, result);
    } else {
      napi_value code, message, moved;
      napi_create_string_utf8(env, errno_name(job->err), NAPI_AUTO_LENGTH, &code);
      napi_create_string_utf8(env, strerror(job->err), NAPI_AUTO_LENGTH, &message);
      napi_create_error(env, code, message, &result);
      napi_create_int64(env, job->moved, &moved);
      napi_set_named_property(env, result, "bytesSent", moved);
      napi_reject_deferred(env, job->deferred, result);
    }
  }
  /* Only returns from thread_main are left after the delivery: a short wait. */
  join_thread(job);
  close_wake_fd(job);
  job_unref(job);
}

static napi_value cancel(napi_env env, napi_callback_info info) {
  Job *job;
  napi_get_cb_info(env, info, NULL, NULL, NULL, (void **)&job);
  cancel_job(job);
  return NULL;
}

static void release_js_side(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  job_unref(data);
}

/* Starts the job's thread with every signal blocked (signals belong to Node's main thread). */
static int start_thread(Job *job) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, THREAD_STACK_BYTES);
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int err = pthread_create(&job->thread, &attr, thread_main, job);
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
  pthread_attr_destroy(&attr);
  return err;
}

/*
 * The object handed to JavaScript. Its cancel function owns one reference to the job
 * (the function lives at least as long as the object that holds it).
 */
static napi_value transfer_object(napi_env env, Job *job) {
  napi_value object, cancel_fn, promise;
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_function(env, "cancel", NAPI_AUTO_LENGTH, cancel, job, &cancel_fn);
  napi_add_finalizer(env, cancel_fn, job, release_js_side, NULL, NULL);
  napi_create_object(env, &object);
  napi_set_named_property(env, object, "done", promise);
  napi_set_named_property(env, object, "cancel", cancel_fn);
  return object;
}

static void free_unstarted(Job *job) {
  atomic_init(&job->refs, 1);
  job_unref(job);
}

/* Runs on the JS thread: the job's thread cannot settle it before this returns. */
static napi_value start(napi_env env, Job *job) {
  napi_value null_value;
  napi_get_null(env, &null_value);
  job->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (job->wake_fd < 0) {
    free(job);
    return null_value;
  }
  pthread_mutex_init(&job->lock, NULL);
  atomic_init(&job->cancelled, 0);
  napi_value name;
  napi_create_string_utf8(env, "ferry:zero-copy", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, settle, &job->tsfn) != napi_ok) {
    free_unstarted(job);
    return null_value;
  }
  atomic_init(&job->refs, 2); /* the thread's side and the JS side */
  if (start_thread(job) != 0) {
    /* Out of threads (EAGAIN): the caller falls back to its stream path. */
    napi_release_threadsafe_function(job->tsfn, napi_tsfn_abort);
    free_unstarted(job);
    return null_value;
  }
  napi_add_env_cleanup_hook(env, on_env_cleanup, job);
  return transfer_object(env, job);
}

static Job *new_job(napi_env env, napi_value *argv, int socket_index, int file_index, int offset_index, int idle_index) {
  Job *job = calloc(1, sizeof(Job));
  if (job == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  int32_t idle = 0;
  napi_get_value_int32(env, argv[socket_index], &job->socket_fd);
  napi_get_value_int32(env, argv[file_index], &job->file_fd);
  napi_get_value_int64(env, argv[offset_index], &job->offset);
  napi_get_value_int32(env, argv[idle_index], &idle);
  job->idle_timeout_ms = idle > 0 ? idle : 300000;
  return job;
}

static napi_value start_send(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "sendfile(socketFd, fileFd, offset, count, idleTimeoutMs)");
    return NULL;
  }
  Job *job = new_job(env, argv, 0, 1, 2, 4);
  if (job == NULL) return NULL;
  napi_get_value_int64(env, argv[3], &job->count);
  return start(env, job);
}

static napi_value start_receive(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "receive(socketFd, fileFd, offset, idleTimeoutMs)");
    return NULL;
  }
  Job *job = new_job(env, argv, 0, 1, 2, 3);
  if (job == NULL) return NULL;
  job->receive = 1;
  return start(env, job);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "sendfile", NAPI_AUTO_LENGTH, start_send, NULL, &fn);
  napi_set_named_property(env, exports, "sendfile", fn);
  napi_create_function(env, "receive", NAPI_AUTO_LENGTH, start_receive, NULL, &fn);
  napi_set_named_property(env, exports, "receive", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
