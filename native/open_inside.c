/*
 * ferry_open: the jail's "open a regular file only once it is known to be inside the
 * root" (src/storage/jail.ts) in one trip through libuv's thread pool instead of three.
 * Per RETR the JavaScript version queues open(O_PATH), fstat and the real open one after
 * the other; each trip costs a thread wake-up and a callback, which on a many-small-files
 * load was a quarter of the server's CPU per transfer. Doing the calls synchronously on
 * the event loop would save as much, but a cold lookup on a slow disk would then stall
 * every session, so they stay off the loop, together.
 *
 *   openInside(path, flags, realRoot) -> Promise<{ fd, size }>
 *
 * The steps, as in jail.ts: open(path, O_PATH) following links; where the inode really
 * is, from /proc/self/fd (a removed file reads "<path> (deleted)" and counts where it was,
 * but only when it really has no links left); that place must be realRoot or below it;
 * fstat, and only a regular file is opened, with `flags`, through the O_PATH descriptor's
 * magic link (so the inode checked is the inode opened, whatever the path names by then).
 *
 * Rejections carry .code: ERRNO for a failed call (with .syscall and .errno, negated as
 * Node's are, for util.getSystemErrorName), or FERRY_OUTSIDE (not inside the root),
 * EISDIR (a directory), FERRY_NOT_REGULAR (a FIFO, device or socket: never opened for
 * real). `flags` never create a file (no O_CREAT or O_TMPFILE: the open passes no mode).
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *path;
  char *root;
  int flags;
  /* Written by the pool thread, read on the JS thread in complete(). */
  int fd;
  int64_t size;
  int err;              /* errno of the failed call, or 0 */
  const char *syscall;  /* which call failed */
  const char *refusal;  /* a refusal that is not an errno (see the top) */
} OpenJob;

static const char DELETED_SUFFIX[] = " (deleted)";

static int inside_root(const char *real, const char *root) {
  size_t length = strlen(root);
  if (length > 0 && root[length - 1] == '/') return strncmp(real, root, length) == 0;
  return strncmp(real, root, length) == 0 && (real[length] == '\0' || real[length] == '/');
}

static void fail(OpenJob *job, const char *syscall) {
  job->err = errno;
  job->syscall = syscall;
}

static void execute(napi_env env, void *data) {
  (void)env;
  OpenJob *job = data;
  int path_fd = open(job->path, O_PATH | O_CLOEXEC);
  if (path_fd < 0) {
    fail(job, "open");
    return;
  }
  char link[48];
  snprintf(link, sizeof link, "/proc/self/fd/%d", path_fd);
  char real[PATH_MAX + sizeof DELETED_SUFFIX];
  struct stat stats;
  ssize_t length = readlink(link, real, sizeof real - 1);
  if (length < 0) {
    fail(job, "readlink");
  } else if ((size_t)length >= sizeof real - 1) {
    errno = ENAMETOOLONG;
    fail(job, "readlink");
  } else if (fstat(path_fd, &stats) < 0) {
    fail(job, "fstat");
  } else {
    real[length] = '\0';
    size_t suffix = sizeof DELETED_SUFFIX - 1;
    if ((size_t)length > suffix && strcmp(real + length - suffix, DELETED_SUFFIX) == 0 && stats.st_nlink == 0) real[length - suffix] = '\0';
    if (!inside_root(real, job->root)) job->refusal = "FERRY_OUTSIDE";
    else if (S_ISDIR(stats.st_mode)) job->refusal = "EISDIR";
    else if (!S_ISREG(stats.st_mode)) job->refusal = "FERRY_NOT_REGULAR";
    else if ((job->fd = open(link, job->flags | O_CLOEXEC)) < 0) fail(job, "open");
    else job->size = stats.st_size;
  }
  close(path_fd);
}

static napi_value error_with_code(napi_env env, const char *code, const char *syscall, int err) {
  napi_value code_value, message, error;
  char text[160];
  if (syscall) snprintf(text, sizeof text, "%s: %s", syscall, strerror(err));
  else snprintf(text, sizeof text, "%s", code);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code_value, message, &error);
  if (syscall) {
    napi_value syscall_value, errno_value;
    napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value);
    napi_set_named_property(env, error, "syscall", syscall_value);
    napi_create_int32(env, -err, &errno_value);
    napi_set_named_property(env, error, "errno", errno_value);
  }
  return error;
}

static void complete(napi_env env, napi_status status, void *data) {
  OpenJob *job = data;
  if (status != napi_ok) {
    if (job->fd >= 0) close(job->fd);
    napi_reject_deferred(env, job->deferred, error_with_code(env, "ECANCELED", NULL, 0));
  } else if (job->err) {
    napi_reject_deferred(env, job->deferred, error_with_code(env, "ERRNO", job->syscall, job->err));
  } else if (job->refusal) {
    napi_reject_deferred(env, job->deferred, error_with_code(env, job->refusal, NULL, 0));
  } else {
    napi_value result, fd, size;
    napi_create_object(env, &result);
    napi_create_int32(env, job->fd, &fd);
    napi_create_int64(env, job->size, &size);
    napi_set_named_property(env, result, "fd", fd);
    napi_set_named_property(env, result, "size", size);
    napi_resolve_deferred(env, job->deferred, result);
  }
  napi_delete_async_work(env, job->work);
  free(job->path);
  free(job->root);
  free(job);
}

static char *string_argument(napi_env env, napi_value value) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return NULL;
  char *text = malloc(length + 1);
  if (!text) return NULL;
  napi_get_value_string_utf8(env, value, text, length + 1, &length);
  // A NUL inside would cut the path short where Node's own open refuses it.
  if (strlen(text) != length) {
    free(text);
    return NULL;
  }
  return text;
}

static napi_value open_inside(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  OpenJob *job = calloc(1, sizeof *job);
  if (!job || argc < 3) {
    free(job);
    napi_throw_type_error(env, NULL, "openInside(path, flags, realRoot)");
    return NULL;
  }
  job->fd = -1;
  job->path = string_argument(env, argv[0]);
  job->root = string_argument(env, argv[2]);
  if (!job->path || !job->root || napi_get_value_int32(env, argv[1], &job->flags) != napi_ok) {
    free(job->path);
    free(job->root);
    free(job);
    napi_throw_type_error(env, NULL, "openInside(path: string, flags: number, realRoot: string)");
    return NULL;
  }
  napi_value promise, name;
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "ferry:openInside", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "openInside", NAPI_AUTO_LENGTH, open_inside, NULL, &fn);
  napi_set_named_property(env, exports, "openInside", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
