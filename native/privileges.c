/*
 * Keeping the one privilege active mode needs after run_as gives root up: binding port
 * 20 (CAP_NET_BIND_SERVICE), as vsftpd keeps a privileged helper for it. Node can switch
 * uid and gid but cannot keep a capability across the switch; this does, on the calling
 * thread (the main thread, where libuv binds every socket):
 *
 *   keepCapabilities()   prctl(PR_SET_KEEPCAPS, 1): the next setuid() away from root
 *                        keeps the permitted set instead of clearing it
 *   limitToBindService() after setuid(): permitted and effective = {CAP_NET_BIND_SERVICE},
 *                        nothing inheritable, PR_SET_KEEPCAPS off again. Without
 *                        CAP_SETUID the process can never become root again.
 *
 * Each throws an Error whose .code is the errno name when the kernel refuses.
 */
#include <errno.h>
#include <linux/capability.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static napi_value fail(napi_env env, const char *what, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, err == EPERM ? "EPERM" : err == EINVAL ? "EINVAL" : "ERR_CAPABILITY", message);
  return NULL;
}

static napi_value keep_capabilities(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return fail(env, "prctl(PR_SET_KEEPCAPS)", errno);
  return NULL;
}

static napi_value limit_to_bind_service(napi_env env, napi_callback_info info) {
  (void)info;
  struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset(data, 0, sizeof data);
  data[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].permitted = CAP_TO_MASK(CAP_NET_BIND_SERVICE);
  data[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].effective = CAP_TO_MASK(CAP_NET_BIND_SERVICE);
  if (syscall(SYS_capset, &header, data) != 0) return fail(env, "capset(CAP_NET_BIND_SERVICE)", errno);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return fail(env, "prctl(PR_SET_KEEPCAPS, 0)", errno);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    { "keepCapabilities", NULL, keep_capabilities, NULL, NULL, NULL, napi_default, NULL },
    { "limitToBindService", NULL, limit_to_bind_service, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
