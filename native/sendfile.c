/*
 * Zero-copy transfers for Ferry's plain (non-TLS, TYPE I) downloads and uploads.
 *
 * Node copies every chunk of a download from the kernel into JavaScript and back;
 * sendfile(2) moves the bytes from the page cache to the socket inside the kernel, as
 * vsftpd does. Transfers run on this addon's OWN worker threads, never on libuv's thread
 * pool: a stalled peer would otherwise hold one of the pool's few threads until the idle
 * timeout, and every fs call and scrypt check of every other session would queue behind it.
 *
 * Each env (the main thread, each worker_thread) has a pool of workers. A transfer holds
 * one worker from start to end; when none is idle a new one starts, so the pool grows to
 * the number of transfers running at once, which JavaScript bounds
 * (limits.zero_copy_threads). Workers are reused across transfers (a small download
 * would otherwise pay for a thread's creation and join) and exit after THREAD_IDLE_MS
 * without work, so an idle server holds no thread. Completions reach JavaScript through
 * one threadsafe function per env, one wake-up for as many as are ready.
 *
 * The socket is non-blocking (libuv owns it), so EAGAIN waits in poll(2) on the socket
 * and the worker's eventfd: cancel() writes the eventfd, which wakes the worker at once,
 * and an idle transfer costs no CPU. The descriptors are never closed while a worker uses
 * them: JavaScript waits for `done` first.
 *
 *   sendfile(socketFd, fileFd, offset, count, idleTimeoutMs) -> { done, id } | null
 *       sends `count` bytes of the file from `offset`
 *   sendfileAndClose(socketFd, fileFd, offset, count, idleTimeoutMs) -> { done, id } | null
 *       the same, then the worker closes fileFd (however the send ended): a download's
 *       close(2) then costs no round trip through libuv's pool. Once it returns an
 *       object the descriptor is the worker's; null leaves it the caller's.
 *   receive(socketFd, fileFd, offset, idleTimeoutMs) -> { done, id } | null
 *       writes to the file from `offset` until the peer's EOF, socket -> pipe -> file
 *       with splice(2)
 *   cancel(id)                 stops that transfer (nothing once it has settled)
 *   progress(id)               bytes that transfer has moved so far; 0 once it has settled
 *                              (`done` has the final count) or for an id never started
 *   setThreadIdleTimeout(ms)   how long an idle worker waits for work before it exits
 *
 * The running count lives in the job as an atomic that only its worker writes, once per
 * sendfile/splice step; progress() reads it (relaxed: a count, not a synchronisation) when
 * JavaScript asks, so a transfer costs no call into JavaScript per chunk.
 *
 * `done` resolves with the bytes moved, or rejects with an Error whose .code is the errno
 * name (ETIMEDOUT when the peer was idle for idleTimeoutMs, ECANCELED after cancel()).
 * null means no worker could be started; the caller uses its stream path instead.
 *
 * Workers are always joined on the JS thread, never detached: env teardown (a worker_thread
 * ending, the process exiting) must not go on while one still runs this addon's code
 * (which a worker_thread's teardown unloads), the descriptors or the threadsafe function.
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

/*
 * The most one sendfile call moves. To a reader that keeps up, a call returns only when
 * this much is sent, and the running count moves only between calls: 16 MiB keeps STAT
 * and the web admin current on a fast link for a few dozen calls per GiB.
 */
#define SEND_STEP_BYTES (16 << 20)
#define THREAD_STACK_BYTES (256 * 1024)
#define THREAD_IDLE_MS 30000

typedef struct Worker Worker;

typedef struct Job {
  /* Set on the JS thread before the job is queued. */
  int64_t id;
  int socket_fd;
  int file_fd;
  int64_t offset;
  int64_t count;
  int idle_timeout_ms;
  int receive; /* 1: socket -> file (splice), 0: file -> socket (sendfile) */
  int close_file; /* the worker closes file_fd when the job ends */
  napi_deferred deferred;
  /* Written by the worker; progress() reads it at any time, settle() after the delivery. */
  _Atomic int64_t moved;
  /* Written by the worker, read on the JS thread after the delivery. */
  int err;
  int wake_fd; /* the running worker's eventfd */
  atomic_int cancelled;
  Worker *worker;   /* under the pool's lock: the worker running it, to wake on cancel */
  struct Job *next; /* under the pool's lock: in the queue or the done list */
  /* JS thread only: every job not yet settled, for cancel(id) and env teardown. */
  struct Job *active_prev, *active_next;
} Job;

typedef struct Pool Pool;

struct Worker {
  pthread_t thread;
  Pool *pool;
  int wake_fd;     /* eventfd written by cancel() */
  int wake_armed;  /* under the lock: written since the worker last drained it */
  Worker *next;    /* under the lock: in the pool's live or retired list */
};

struct Pool {
  pthread_mutex_t lock;
  pthread_cond_t work_ready;
  /* Under the lock. */
  Job *queue_head, *queue_tail;
  int queued;
  int idle;          /* live workers without a job (some not yet waiting) */
  Worker *live;
  Worker *retired;   /* exited on their idle timeout: the JS thread joins them */
  Job *done_head, *done_tail;
  int notify_pending; /* a delivery is in the threadsafe function's queue */
  int closing;        /* env teardown: workers stop, nothing is delivered */
  int thread_idle_ms;
  /* JS thread only. */
  napi_threadsafe_function tsfn;
  Job *active;
  int active_count;
  int64_t next_id;
};

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
  int64_t moved = 0;
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
      moved += m;
      atomic_store_explicit(&job->moved, moved, memory_order_relaxed);
    }
  }
  close(pipefd[0]);
  close(pipefd[1]);
}

/* file -> socket until `count` bytes or the file's end. */
static void run_send(Job *job) {
  off_t offset = (off_t)job->offset;
  int64_t moved = 0;
  int64_t idle_deadline = now_ms() + job->idle_timeout_ms;
  while (moved < job->count && job->err == 0) {
    if (atomic_load(&job->cancelled)) {
      job->err = ECANCELED;
      break;
    }
    int64_t left = job->count - moved;
    ssize_t n = sendfile(job->socket_fd, job->file_fd, &offset, (size_t)(left > SEND_STEP_BYTES ? SEND_STEP_BYTES : left));
    if (n > 0) {
      moved += n;
      atomic_store_explicit(&job->moved, moved, memory_order_relaxed);
      idle_deadline = now_ms() + job->idle_timeout_ms;
    } else if (n == 0) {
      break; /* the file is shorter than expected: stop at its end */
    } else if (errno != EINTR) {
      job->err = errno == EAGAIN ? wait_ready(job, POLLOUT, idle_deadline) : errno;
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


/* Under the lock: wake the JS thread for the done and retired lists, once for all. */
static void notify_js(Pool *pool) {
  if (pool->closing || pool->notify_pending) return;
  pool->notify_pending = napi_call_threadsafe_function(pool->tsfn, NULL, napi_tsfn_nonblocking) == napi_ok;
}

static struct timespec deadline_after(int ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  return ts;
}

static void drain_eventfd(int fd) {
  uint64_t value;
  ssize_t ignored = read(fd, &value, sizeof value); /* EAGAIN when already empty */
  (void)ignored;
}

static void unlink_worker(Worker **list, Worker *worker) {
  for (; *list != NULL; list = &(*list)->next) {
    if (*list == worker) {
      *list = worker->next;
      return;
    }
  }
}

static void *worker_main(void *data) {
  Worker *self = data;
  Pool *pool = self->pool;
  pthread_mutex_lock(&pool->lock);
  for (;;) {
    struct timespec deadline = deadline_after(pool->thread_idle_ms);
    int timed_out = 0;
    while (pool->queue_head == NULL && !pool->closing && !timed_out) {
      timed_out = pthread_cond_timedwait(&pool->work_ready, &pool->lock, &deadline) == ETIMEDOUT;
    }
    if (pool->closing || pool->queue_head == NULL) break;
    Job *job = pool->queue_head;
    pool->queue_head = job->next;
    if (pool->queue_head == NULL) pool->queue_tail = NULL;
    pool->queued--;
    pool->idle--;
    /* A cancel() of this worker's previous job may have left the eventfd readable. */
    if (self->wake_armed) {
      drain_eventfd(self->wake_fd);
      self->wake_armed = 0;
    }
    job->worker = self;
    job->wake_fd = self->wake_fd;
    pthread_mutex_unlock(&pool->lock);

    if (job->receive) run_receive(job);
    else run_send(job);
    if (job->close_file) close(job->file_fd);

    pthread_mutex_lock(&pool->lock);
    job->worker = NULL;
    job->next = NULL;
    if (pool->done_tail != NULL) pool->done_tail->next = job;
    else pool->done_head = job;
    pool->done_tail = job;
    pool->idle++; /* counted idle before the JS thread can see the job done and start another */
    notify_js(pool);
  }
  pool->idle--;
  /* In teardown the cleanup hook joins the live list as it stands; otherwise the JS thread joins us. */
  if (!pool->closing) {
    unlink_worker(&pool->live, self);
    self->next = pool->retired;
    pool->retired = self;
    notify_js(pool);
  }
  pthread_mutex_unlock(&pool->lock);
  return NULL;
}

/* On the JS thread, for a worker that has left worker_main or is about to (nothing there blocks). */
static void join_workers(Worker *list) {
  while (list != NULL) {
    Worker *next = list->next;
    pthread_join(list->thread, NULL);
    close(list->wake_fd);
    free(list);
    list = next;
  }
}

/* Under the lock: a new live, idle worker with every signal blocked (signals belong to Node's main thread). */
static int start_worker(Pool *pool) {
  Worker *worker = calloc(1, sizeof(Worker));
  if (worker == NULL) return ENOMEM;
  worker->pool = pool;
  worker->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (worker->wake_fd < 0) {
    int err = errno;
    free(worker);
    return err;
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, THREAD_STACK_BYTES);
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int err = pthread_create(&worker->thread, &attr, worker_main, worker);
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
  pthread_attr_destroy(&attr);
  if (err != 0) {
    close(worker->wake_fd);
    free(worker);
    return err;
  }
  worker->next = pool->live;
  pool->live = worker;
  pool->idle++;
  return 0;
}

/* On the JS thread: hands the job to an idle worker, or to a new one. 0, or the errno that stopped it. */
static int submit(Pool *pool, Job *job) {
  pthread_mutex_lock(&pool->lock);
  /* Every queued job is already promised to one idle worker. */
  int err = pool->idle > pool->queued ? 0 : start_worker(pool);
  if (err == 0) {
    job->next = NULL;
    if (pool->queue_tail != NULL) pool->queue_tail->next = job;
    else pool->queue_head = job;
    pool->queue_tail = job;
    pool->queued++;
    pthread_cond_signal(&pool->work_ready);
  }
  pthread_mutex_unlock(&pool->lock);
  return err;
}


/* JS thread: the active list holds every job from its start until it settles. */
static void add_active(napi_env env, Pool *pool, Job *job) {
  job->active_prev = NULL;
  job->active_next = pool->active;
  if (pool->active != NULL) pool->active->active_prev = job;
  pool->active = job;
  /* A running transfer keeps the event loop alive, as any pending I/O does. */
  if (pool->active_count++ == 0) napi_ref_threadsafe_function(env, pool->tsfn);
}

static void remove_active(napi_env env, Pool *pool, Job *job) {
  if (job->active_prev != NULL) job->active_prev->active_next = job->active_next;
  else pool->active = job->active_next;
  if (job->active_next != NULL) job->active_next->active_prev = job->active_prev;
  if (--pool->active_count == 0) napi_unref_threadsafe_function(env, pool->tsfn);
}

static void settle(napi_env env, Pool *pool, Job *job) {
  remove_active(env, pool, job);
  napi_value result;
  if (job->err == 0) {
    napi_create_int64(env, atomic_load(&job->moved), &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value code, message, moved;
    napi_create_string_utf8(env, errno_name(job->err), NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, strerror(job->err), NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, code, message, &result);
    napi_create_int64(env, atomic_load(&job->moved), &moved);
    napi_set_named_property(env, result, "bytesSent", moved);
    napi_reject_deferred(env, job->deferred, result);
  }
  free(job);
}

/* The threadsafe function's callback, on the JS thread (env is NULL when Node tears it down). */
static void deliver(napi_env env, napi_value js_callback, void *context, void *data) {
  (void)js_callback;
  (void)data;
  if (env == NULL) return; /* teardown: on_env_cleanup() has freed what was left */
  Pool *pool = context;
  pthread_mutex_lock(&pool->lock);
  Job *done = pool->done_head;
  pool->done_head = pool->done_tail = NULL;
  Worker *retired = pool->retired;
  pool->retired = NULL;
  pool->notify_pending = 0;
  pthread_mutex_unlock(&pool->lock);
  join_workers(retired);
  while (done != NULL) {
    Job *next = done->next;
    settle(env, pool, done);
    done = next;
  }
}

/* Env teardown: stop every worker at once and wait for each to end. */
static void on_env_cleanup(void *data) {
  Pool *pool = data;
  uint64_t one = 1;
  pthread_mutex_lock(&pool->lock);
  pool->closing = 1;
  for (Job *job = pool->active; job != NULL; job = job->active_next) atomic_store(&job->cancelled, 1);
  for (Worker *worker = pool->live; worker != NULL; worker = worker->next) {
    ssize_t ignored = write(worker->wake_fd, &one, sizeof one);
    (void)ignored;
  }
  pthread_cond_broadcast(&pool->work_ready);
  /* With closing set, no worker moves between the lists any more. */
  Worker *live = pool->live, *retired = pool->retired;
  pool->live = pool->retired = NULL;
  pthread_mutex_unlock(&pool->lock);
  join_workers(live);
  join_workers(retired);
  /* Their promises go with the env. The threadsafe function's queue holds no job, only wake-ups. */
  while (pool->active != NULL) {
    Job *next = pool->active->active_next;
    free(pool->active);
    pool->active = next;
  }
  pthread_cond_destroy(&pool->work_ready);
  pthread_mutex_destroy(&pool->lock);
  free(pool);
}

/* JS thread: the unsettled job a call's id argument names, or NULL (settled, never started, no id). */
static Job *active_job_of_call(napi_env env, napi_callback_info info, Pool **pool) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, (void **)pool);
  int64_t id = 0;
  if (argc < 1 || napi_get_value_int64(env, argv[0], &id) != napi_ok) return NULL;
  Job *job = (*pool)->active;
  while (job != NULL && job->id != id) job = job->active_next;
  return job;
}

static napi_value cancel(napi_env env, napi_callback_info info) {
  Pool *pool;
  Job *job = active_job_of_call(env, info, &pool);
  if (job == NULL) return NULL; /* already settled */
  pthread_mutex_lock(&pool->lock);
  atomic_store(&job->cancelled, 1); /* seen before its first syscall when it has not started */
  if (job->worker != NULL) {
    uint64_t one = 1;
    ssize_t ignored = write(job->worker->wake_fd, &one, sizeof one); /* a full counter is still readable */
    (void)ignored;
    job->worker->wake_armed = 1;
  }
  pthread_mutex_unlock(&pool->lock);
  return NULL;
}

/* The job stays allocated until settle(), on this same thread, so reading it here is safe. */
static napi_value progress(napi_env env, napi_callback_info info) {
  Pool *pool;
  Job *job = active_job_of_call(env, info, &pool);
  napi_value result;
  napi_create_int64(env, job == NULL ? 0 : atomic_load_explicit(&job->moved, memory_order_relaxed), &result);
  return result;
}

static napi_value set_thread_idle_timeout(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Pool *pool;
  napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&pool);
  int32_t ms = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &ms) != napi_ok || ms <= 0) {
    napi_throw_type_error(env, NULL, "setThreadIdleTimeout(ms > 0)");
    return NULL;
  }
  pthread_mutex_lock(&pool->lock);
  pool->thread_idle_ms = ms;
  pthread_mutex_unlock(&pool->lock);
  return NULL;
}

/* Queues the job; the object handed to JavaScript, or null (stream path) when no worker could start. */
static napi_value start(napi_env env, Pool *pool, Job *job) {
  napi_value result;
  job->id = ++pool->next_id;
  atomic_init(&job->cancelled, 0);
  atomic_init(&job->moved, 0);
  if (submit(pool, job) != 0) {
    /* Out of threads or descriptors: the caller falls back to its stream path. */
    free(job);
    napi_get_null(env, &result);
    return result;
  }
  /* The worker may finish first, but only deliver(), on this thread, reads what follows. */
  napi_value promise, id;
  napi_create_promise(env, &job->deferred, &promise);
  add_active(env, pool, job);
  napi_create_int64(env, job->id, &id);
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "done", promise);
  napi_set_named_property(env, result, "id", id);
  return result;
}

/*
 * The job a JS call describes: sendfile(socketFd, fileFd, offset, count, idleTimeoutMs) or
 * receive(socketFd, fileFd, offset, idleTimeoutMs). NULL with a JS exception pending when
 * the arguments are wrong or memory is short.
 */
static Job *job_from_call(napi_env env, napi_callback_info info, int receive, Pool **pool) {
  size_t expected = receive ? 4 : 5;
  size_t argc = expected;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, (void **)pool);
  if (argc < expected) {
    napi_throw_type_error(env, NULL,
                          receive ? "receive(socketFd, fileFd, offset, idleTimeoutMs)"
                                  : "sendfile(socketFd, fileFd, offset, count, idleTimeoutMs)");
    return NULL;
  }
  Job *job = calloc(1, sizeof(Job));
  if (job == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  int32_t idle = 0;
  napi_get_value_int32(env, argv[0], &job->socket_fd);
  napi_get_value_int32(env, argv[1], &job->file_fd);
  napi_get_value_int64(env, argv[2], &job->offset);
  if (!receive) napi_get_value_int64(env, argv[3], &job->count);
  napi_get_value_int32(env, argv[expected - 1], &idle);
  job->idle_timeout_ms = idle > 0 ? idle : 300000;
  job->receive = receive;
  return job;
}

static napi_value start_call(napi_env env, napi_callback_info info, int receive, int close_file) {
  Pool *pool;
  Job *job = job_from_call(env, info, receive, &pool);
  if (job == NULL) return NULL;
  job->close_file = close_file;
  return start(env, pool, job);
}

static napi_value start_send(napi_env env, napi_callback_info info) { return start_call(env, info, 0, 0); }
static napi_value start_send_and_close(napi_env env, napi_callback_info info) { return start_call(env, info, 0, 1); }
static napi_value start_receive(napi_env env, napi_callback_info info) { return start_call(env, info, 1, 0); }

static napi_value init(napi_env env, napi_value exports) {
  Pool *pool = calloc(1, sizeof(Pool));
  if (pool == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  pthread_mutex_init(&pool->lock, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&pool->work_ready, &attr);
  pthread_condattr_destroy(&attr);
  pool->thread_idle_ms = THREAD_IDLE_MS;
  napi_value name;
  napi_create_string_utf8(env, "ferry:zero-copy", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, pool, deliver, &pool->tsfn) != napi_ok) {
    napi_throw_error(env, NULL, "cannot create the zero-copy completion queue");
    return NULL;
  }
  napi_unref_threadsafe_function(env, pool->tsfn); /* only running transfers keep the loop alive */
  /* Added after the threadsafe function, so it runs before that one's own hook; either way in
   * the same pass, before Node frees the threadsafe function. */
  napi_add_env_cleanup_hook(env, on_env_cleanup, pool);
  const struct {
    const char *name;
    napi_callback callback;
  } functions[] = {
      {"sendfile", start_send},
      {"sendfileAndClose", start_send_and_close},
      {"receive", start_receive},
      {"cancel", cancel},
      {"progress", progress},
      {"setThreadIdleTimeout", set_thread_idle_timeout},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value fn;
    napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].callback, pool, &fn);
    napi_set_named_property(env, exports, functions[i].name, fn);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
