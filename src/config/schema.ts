/**
 * The one configuration schema. TOML keys, their defaults, their checks and their
 * one-line descriptions (`.meta`) live here; `ferry serve --help` and the README's
 * reference are generated from it (see reference.ts).
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseAddressRange, parseListenAddress, parsePortRange } from '../protocol/address.js';
import { isUsableCharset } from '../protocol/charset.js';
import { isPasswordHash } from '../auth/password.js';
import { TRANSFER_LOG_FORMATS } from '../observability/xferlog-format.js';
import { HOOK_EVENTS } from '../observability/hooks/hook-event.js';

/** TLS policies, weakest first (vsftpd force_local_logins_ssl / force_local_data_ssl). */
export const TLS_MODES = ['off', 'optional', 'login', 'required'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** Where files live: folders, or keys in an S3-compatible bucket. */
export const STORAGE_TYPES = ['local', 's3'] as const;

const MIB = 1024 * 1024;
/** S3's limits on a multipart-upload part (the last one may be smaller). */
const MIN_PART_SIZE = 5 * MIB;
const MAX_PART_SIZE = 5 * 1024 * MIB;

const seconds = z.number().positive().max(86_400 * 7);
const tcpPort = z.number().int().min(0).max(65535);

/** "MIN-MAX", or "0" to let the OS pick any free port. */
const portRange = z
  .string()
  .refine((text) => text.trim() === '0' || parsePortRange(text) !== null, {
    message: 'expected "MIN-MAX" with 1 <= MIN <= MAX <= 65535, or "0" for any free port',
  })
  .transform((text) => (text.trim() === '0' ? null : parsePortRange(text)));

/** A charset for file names on the wire (iconv-lite's names); the users file uses it too. */
export const charsetName = z.string().refine(isUsableCharset, {
  message: 'expected a charset that keeps ASCII as is, e.g. "utf8", "gbk", "cp936", "gb18030", "big5", "shift_jis", "latin1"',
});

const hostname = z
  .string()
  .refine((text) => isIP(text) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(text), {
    message: 'expected an IP address or a host name',
  });

export const configSchema = z.strictObject({
  host: z
    .string()
    .refine((text) => isIP(text) !== 0, { message: 'expected an IP address' })
    .default('0.0.0.0')
    .meta({ description: 'listen address; "::" for IPv6 and IPv4' }),
  port: tcpPort.default(2121).meta({ description: 'control port' }),
  root: z
    .string()
    .min(1)
    .default('./ftp-root')
    .meta({ description: 'folder for users without their own home (created if missing); with S3 storage a key prefix in the bucket (default: the bucket prefix itself)' }),
  banner: z.string().max(512).default('Ferry FTP server ready.').meta({ description: 'the 220 greeting' }),
  users_file: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'made with `ferry user add`; re-read when it changes', examples: ['users.toml'] }),
  charset: charsetName
    .default('utf8')
    .meta({ description: 'names on the wire until OPTS UTF8 ON, e.g. "gbk" for Chinese Windows Explorer; names on disk stay UTF-8; users may override' }),
  max_clients: z.number().int().min(0).default(0).meta({ description: 'most concurrent sessions (0 = no limit), then 421' }),
  max_per_ip: z.number().int().min(0).default(0).meta({ description: 'most sessions from one address (0 = no limit)' }),
  max_login_failures: z.number().int().min(1).default(3).meta({ description: 'failed PASS on one connection before 421 and close' }),
  workers: z
    .union([z.number().int().min(1).max(256), z.literal('auto')])
    .default(1)
    .meta({
      description:
        'processes serving FTP ("auto" = one per core): they share the listening ports, each takes an equal slice of passive.ports, and limits, bans, metrics and the web admin cover them all; default 1 = one process',
      examples: [2, 'auto'],
    }),
  shutdown_grace: seconds.default(30).meta({ description: 'seconds running transfers get on SIGINT/SIGTERM' }),
  // Resolved (user and group must exist) before anything is bound; see server/privileges.ts.
  run_as: z
    .string()
    .regex(/^[^:\s]+(:[^:\s]+)?$/, { message: 'expected "USER" or "USER:GROUP", e.g. "ferry" or "ferry:ferry"' })
    .optional()
    .meta({
      description:
        "started as root (to bind ports 21 and 990): once listening, with certificates, users file and logs open, run as this USER[:GROUP] (default group: the user's); unset = stay as started. Only CAP_NET_BIND_SERVICE is kept, for active data from port 20 (none with active.connect_from_port_20 = false)",
      examples: ['ferry:ferry'],
    }),
  anonymous: z
    .strictObject({
      enabled: z.boolean().default(false).meta({ description: 'users "anonymous" and "ftp", any password, read-only' }),
      root: z.string().min(1).optional().meta({ description: 'their root; defaults to root', examples: ['./pub'] }),
    })
    .prefault({}),
  passive: z
    .strictObject({
      enabled: z.boolean().default(true).meta({ description: 'answer PASV and EPSV' }),
      // The default is file text (prefault), parsed like a configured value.
      ports: portRange.prefault('50000-50999').meta({ description: 'vsftpd pasv_min_port/pasv_max_port; "0" = any free port' }),
      // A host name is checked at start (see startup-checks.ts).
      address: hostname.optional().meta({
        description: 'advertised in 227 replies (vsftpd pasv_address, ProFTPD MasqueradeAddress): an IP, or a host name resolved at start and on each PASV',
        examples: ['ftp.example.com'],
      }),
      address_rules: z
        .array(
          z.strictObject({
            networks: z.array(z.string().refine((text) => parseAddressRange(text) !== null, { message: 'expected an IP address or a CIDR range, e.g. "10.0.0.0/8"' })).min(1),
            address: z.union([z.literal('local'), hostname]),
          }),
        )
        .default([])
        .meta({
          description:
            'per client network, first match wins: [[passive.address_rules]] networks = ["10.0.0.0/8"], address = "10.0.0.5" (or "local"); without a match, clients on private networks get the local address and others passive.address',
        }),
      promiscuous: z.boolean().default(false).meta({ description: 'accept data connections from any address (vsftpd pasv_promiscuous)' }),
    })
    .prefault({}),
  active: z
    .strictObject({
      enabled: z.boolean().default(true).meta({ description: 'accept PORT and EPRT' }),
      connect_from_port_20: z.boolean().default(true).meta({ description: 'connect back from port 20 when the process may bind it (root, or CAP_NET_BIND_SERVICE), else ephemeral' }),
      promiscuous: z.boolean().default(false).meta({ description: 'allow PORT/EPRT to other hosts and ports < 1024 (bounce risk)' }),
    })
    .prefault({}),
  timeouts: z
    .strictObject({
      idle: seconds.default(300).meta({ description: 'control-connection silence before 421' }),
      data_connect: seconds.default(30).meta({ description: 'time the client has to open the data connection (else 425)' }),
      data_idle: seconds.default(300).meta({ description: 'time a data connection may stall (else 426)' }),
      login: seconds.default(60).meta({ description: 'time a new connection has to log in (else 421)' }),
    })
    .prefault({})
    .meta({ description: 'in seconds' }),
  tls: z
    .strictObject({
      mode: z
        .enum(TLS_MODES)
        .optional()
        .meta({
          description: 'off | optional | login (TLS to log in) | required (login and data); default "required" when cert is set, else "off"; users may override',
          examples: ['required'],
        }),
      cert: z.string().min(1).optional().meta({ description: 'PEM certificate chain, re-read on SIGHUP', examples: ['cert.pem'] }),
      key: z.string().min(1).optional().meta({ description: 'PEM private key, re-read on SIGHUP', examples: ['key.pem'] }),
      implicit: z.boolean().default(true).meta({ description: 'also listen for implicit FTPS (TLS before the greeting)' }),
      implicit_port: tcpPort.default(2990).meta({ description: 'implicit FTPS port (990 is the standard, privileged, port)' }),
      session_reuse: z.boolean().default(true).meta({ description: 'data TLS must resume the control session (vsftpd require_ssl_reuse)' }),
      handshake_timeout: seconds.default(10).meta({ description: 'seconds a client has to finish a TLS handshake' }),
      // A bare TCP close could be an attacker truncating the stream.
      strict_upload_eof: z
        .boolean()
        .default(true)
        .meta({ description: 'commit a TLS upload only if it ends with close_notify' }),
    })
    .prefault({}),
  limits: z
    .strictObject({
      glob_max_length: z.number().int().min(1).max(4096).default(255).meta({ description: 'longest LIST/NLST/STAT wildcard pattern, in characters (else 501)' }),
      glob_max_wildcards: z.number().int().min(1).max(256).default(16).meta({ description: 'most wildcards ("*", "?", "[...]") in one pattern (else 501)' }),
      listing_max_entries: z
        .number()
        .int()
        .min(1)
        .default(100_000)
        .meta({ description: 'entries one listing reads, then it answers "truncated"' }),
      // Past it the client's commands are no longer read, then it is closed.
      max_pending_output: z
        .number()
        .int()
        .min(4096)
        .default(1024 * 1024)
        .meta({ description: "bytes of unread replies before a client's commands wait" }),
      // A token bucket per address.
      connection_rate: z.number().min(0).default(50).meta({ description: 'new connections per second from one address (0 = no limit)' }),
      connection_burst: z.number().int().min(1).default(200).meta({ description: 'connections one address may open at once' }),
      // Below it, new connections are refused so logged-in sessions can still open data connections.
      reserved_descriptors: z
        .number()
        .int()
        .min(0)
        .default(256)
        .meta({ description: "descriptors kept free for logged-in sessions' data connections" }),
      // The addon's own threads, never libuv's shared pool: a stalled peer holds its thread (see zero-copy.ts).
      zero_copy_threads: z
        .number()
        .int()
        .min(0)
        .max(1024)
        .default(64)
        .meta({ description: 'dedicated sendfile/splice threads, then streams (0 = no zero-copy)' }),
    })
    .prefault({})
    .meta({ description: 'what each one stops: see "Security" in the README' }),
  defender: z
    .strictObject({
      // Failed logins are scored per address across sessions.
      enabled: z.boolean().default(true).meta({ description: 'ban addresses that fail too many logins' }),
      // Costs a timer, no thread.
      failed_login_delay: z.number().min(0).max(60).default(1).meta({ description: 'seconds before a failed login is answered' }),
      threshold: z.number().int().min(1).default(10).meta({ description: 'failed logins from one address within observation_time that ban it' }),
      observation_time: seconds.default(600).meta({ description: 'seconds a failure counts towards the threshold' }),
      ban_time: seconds.default(900).meta({ description: 'seconds an address stays banned' }),
      allow: z
        .array(
          z.string().refine((text) => parseAddressRange(text) !== null, {
            message: 'expected an IP address or a CIDR range (IPv4 or IPv6), e.g. "192.0.2.0/24", "2001:db8::/32", "::1"',
          }),
        )
        .default([])
        .meta({ description: 'addresses or CIDR ranges never banned (default: none)', examples: [['192.0.2.0/24']] }),
    })
    .prefault({})
    .meta({ description: "SFTPGo's defender, vsftpd's delay_failed_login" }),
  cluster: z
    .strictObject({
      redis: z
        .url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' })
        .optional()
        .meta({ description: 'share bans and max_sessions across nodes through this Redis (failed logins and sessions count on every node together)', examples: ['redis://127.0.0.1:6379'] }),
    })
    .prefault({})
    .meta({ description: 'several Ferry nodes behind one load balancer' }),
  proxy_protocol: z
    .strictObject({
      trusted: z
        .array(
          z.string().refine((text) => parseAddressRange(text) !== null, {
            message: 'expected an IP address or a CIDR range (IPv4 or IPv6), e.g. "10.0.0.0/8", "::1"',
          }),
        )
        .default([])
        .meta({
          description:
            'load balancers that send a PROXY header (v1 or v2) on control and passive data connections: they must send one, nobody else may (empty = PROXY protocol off)',
          examples: [['127.0.0.1/32']],
        }),
    })
    .prefault({})
    .meta({ description: "HAProxy's PROXY protocol: the client's real address for limits, bans, logs and the passive checks" }),
  storage: z
    .strictObject({
      type: z.enum(STORAGE_TYPES).default('local').meta({ description: 'local (folders) | s3 (any S3-compatible object store: AWS, Ceph RGW, MinIO)' }),
      endpoint: z
        .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
        .optional()
        .meta({ description: 'S3 endpoint; default: AWS for storage.region', examples: ['http://127.0.0.1:7480'] }),
      bucket: z.string().min(1).optional().meta({ description: 'the bucket (required for s3)', examples: ['ferry'] }),
      prefix: z.string().default('').meta({ description: 'key prefix of everything Ferry stores; root, anonymous.root and homes are prefixes under it' }),
      region: z.string().min(1).default('us-east-1').meta({ description: 'signing region' }),
      path_style: z.boolean().default(false).meta({ description: 'endpoint/bucket/key URLs instead of bucket.endpoint/key (Ceph RGW, MinIO)' }),
      part_size: z
        .number()
        .int()
        .min(MIN_PART_SIZE)
        .max(MAX_PART_SIZE)
        .default(8 * MIB)
        .meta({ description: 'bytes per multipart-upload part (min 5 MiB); an upload holds up to about 6 parts in memory' }),
      access_key_id: z
        .string()
        .min(1)
        .optional()
        .meta({ description: 'default: AWS_ACCESS_KEY_ID and the rest of the AWS SDK\'s default credential chain', examples: ['ferry'] }),
      secret_access_key: z.string().min(1).optional().meta({ description: 'with access_key_id; default: AWS_SECRET_ACCESS_KEY', examples: ['change-me'] }),
    })
    .prefault({})
    .meta({ description: 'where files live; with s3, APPE and REST+STOR are refused (504)' }),
  user_defaults: z
    .strictObject({
      quota_bytes: z.number().int().min(0).default(0).meta({ description: 'most bytes a user may store under their home (0 = no limit), then 552' }),
      quota_files: z.number().int().min(0).default(0).meta({ description: 'most files a user may store under their home (0 = no limit), then 552' }),
      upload_rate: z.number().int().min(0).default(0).meta({ description: "bytes per second for all of one user's uploads together (0 = no limit)" }),
      download_rate: z.number().int().min(0).default(0).meta({ description: "bytes per second for all of one user's downloads together (0 = no limit)" }),
      max_sessions: z.number().int().min(0).default(0).meta({ description: 'most sessions logged in as one user at once (0 = no limit), then 421' }),
    })
    .prefault({})
    .meta({ description: "limits for every user without their own value in the users file (same key names there)" }),
  extensions: z
    .strictObject({
      site_symlink: z.boolean().default(false).meta({ description: 'SITE SYMLINK: users may create symbolic links (relative, inside their root only)' }),
    })
    .prefault({}),
  log: z
    .strictObject({
      format: z.enum(['text', 'json']).default('text').meta({ description: 'text | json, on stderr' }),
      level: z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info')
        .meta({ description: 'fatal | error | warn | info | debug | trace | silent; debug prints every command and reply (PASS masked)' }),
      transfers: z
        .string()
        .min(1)
        .optional()
        .meta({
          description: 'transfer log: one line per finished, aborted or failed upload and download, appended (file created 0640), reopened on SIGHUP; default: none',
          examples: ['/var/log/ferry/xferlog'],
        }),
      transfers_format: z
        .enum(TRANSFER_LOG_FORMATS)
        .default('xferlog')
        .meta({ description: 'xferlog (the wu-ftpd/vsftpd xferlog_std_format line log analysers read) | json (one object per line, with the failure code and reason)' }),
    })
    .prefault({}),
  hooks: z
    .strictObject({
      queue: z.number().int().min(1).default(1000).meta({ description: 'hook runs waiting for a free slot; past it a run is dropped (counted and logged)' }),
      concurrency: z.number().int().min(1).default(4).meta({ description: 'hook runs at once' }),
      timeout: seconds.default(30).meta({ description: 'seconds per hook run: a command then gets SIGTERM (SIGKILL a second later), a POST is aborted' }),
      actions: z
        .array(
          z.strictObject({
            events: z.array(z.enum(HOOK_EVENTS)).min(1).meta({ description: 'upload | download | delete | rename | mkdir | rmdir | login | logout (uploads and downloads fire when complete)' }),
            command: z.array(z.string().min(1)).min(1).optional().meta({ description: 'argv run without a shell; the event in FERRY_* environment variables (PATH and nothing else besides) and as JSON on stdin', examples: [['/usr/local/bin/on-upload', '--verbose']] }),
            url: z.url({ protocol: /^https?$/ }).optional().meta({ description: 'POST the event as JSON here', examples: ['http://127.0.0.1:8080/ferry-events'] }),
          }),
        )
        .default([])
        .meta({ description: 'each: events, and exactly one of command or url' }),
    })
    .prefault({})
    .meta({ description: 'event hooks: run a command or POST JSON on upload, download, delete, rename, mkdir, rmdir, login, logout' }),
  admin: z
    .strictObject({
      listen: z
        .string()
        .refine((text) => parseListenAddress(text) !== null, { message: 'expected "HOST:PORT", e.g. "127.0.0.1:9464" or "[::1]:9464" (port 0 = any free port)' })
        .transform((text) => parseListenAddress(text)!)
        .optional()
        .meta({
          description: 'serve Prometheus metrics at http://HOST:PORT/metrics on a listener of its own ("[::1]:9464" for IPv6); default: off; /metrics asks for no login, so keep it on loopback or a private network',
          examples: ['127.0.0.1:9464'],
        }),
      token: z
        .string()
        .min(16, 'at least 16 characters (e.g. `openssl rand -hex 24`)')
        .optional()
        .meta({
          description: 'turns on the web admin at http://HOST:PORT/ and opens it: `Authorization: Bearer TOKEN` for the JSON API, or as the password on the login page; 16 characters or more; default: unset (web admin off)',
          examples: ['change-me-0123456789'],
        }),
      user: z
        .string()
        .min(1)
        .optional()
        .meta({ description: 'name to log in to the web admin with (with password); default: unset', examples: ['admin'] }),
      password: z
        .string()
        .refine(isPasswordHash, { message: 'expected a scrypt hash as `ferry user add` writes it ("scrypt$16384$8$1$…$…")' })
        .optional()
        .meta({ description: "admin user's scrypt hash, as `ferry user add` writes; default: unset", examples: ['scrypt$16384$8$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA=='] }),
    })
    .superRefine((admin, context) => {
      if (admin.user !== undefined && admin.password === undefined) context.addIssue({ code: 'custom', path: ['password'], message: 'required when admin.user is set' });
      if (admin.password !== undefined && admin.user === undefined) context.addIssue({ code: 'custom', path: ['user'], message: 'required when admin.password is set' });
      const login = admin.token !== undefined ? 'token' : admin.user !== undefined ? 'user' : null;
      if (login && !admin.listen) context.addIssue({ code: 'custom', path: [login], message: 'the web admin runs on admin.listen: set it too' });
    })
    .prefault({})
    .meta({ description: 'the operations listener: metrics for Prometheus, and the web admin once a login is set' }),
  /**
   * Virtual hosts ([sites.NAME]), chosen by HOST (RFC 7151) or the TLS server name (SNI):
   * `hosts` plus any top-level key but those in SERVER_ONLY_KEYS; the top level gives
   * the defaults and is itself the default site. Checked key by key in load.ts.
   */
  sites: z
    .record(
      z.string().regex(/^[A-Za-z0-9_-]+$/, 'a site name is letters, digits, "-" and "_"'),
      z.looseObject({
        hosts: z.array(hostname).min(1).meta({ description: 'names HOST and the TLS server name (SNI) choose this site by', examples: [['ftp.example.org']] }),
      }),
    )
    .default({})
    .meta({ description: 'a virtual host: hosts, plus any top-level key or table but host, port, max_clients, max_per_ip, shutdown_grace, workers, run_as, [log], [hooks], [admin], [defender], [proxy_protocol], [cluster], passive.ports, tls.implicit, tls.implicit_port and the accept-time limits (connection_rate, connection_burst, reserved_descriptors, zero_copy_threads); the top level gives the defaults' }),
}).superRefine((config, context) => {
  if (config.storage.type === 's3') {
    if (!config.storage.bucket) context.addIssue({ code: 'custom', path: ['storage', 'bucket'], message: 'required when storage.type is "s3"' });
    if (Boolean(config.storage.access_key_id) !== Boolean(config.storage.secret_access_key)) {
      const missing = config.storage.access_key_id ? 'secret_access_key' : 'access_key_id';
      context.addIssue({ code: 'custom', path: ['storage', missing], message: 'access_key_id and secret_access_key are set together' });
    }
  }
  config.hooks.actions.forEach((action, index) => {
    if ((action.command === undefined) === (action.url === undefined)) {
      context.addIssue({ code: 'custom', path: ['hooks', 'actions', index, action.command ? 'url' : 'command'], message: 'each hook action has exactly one of command or url' });
    }
  });
  const mode = config.tls.mode ?? (config.tls.cert ? 'required' : 'off');
  if (mode === 'off') return;
  for (const key of ['cert', 'key'] as const) {
    if (!config.tls[key]) context.addIssue({ code: 'custom', path: ['tls', key], message: `required when tls.mode is "${mode}"` });
  }
});

/** Keys that belong to the whole server (its listeners, its log, its shared limits), never to one site. */
export const SERVER_ONLY_KEYS = ['host', 'port', 'max_clients', 'max_per_ip', 'shutdown_grace', 'workers', 'run_as', 'log', 'hooks', 'admin', 'defender', 'sites', 'passive.ports', 'tls.implicit', 'tls.implicit_port', 'proxy_protocol', 'cluster', 'limits.connection_rate', 'limits.connection_burst', 'limits.reserved_descriptors', 'limits.zero_copy_threads'] as const;

/** One virtual host: its names and its settings (the top level's, with the site's own keys over them). */
export interface SiteDefinition {
  readonly name: string;
  readonly hosts: readonly string[];
  readonly config: FerryConfig;
}

export type FerryConfig = Omit<z.output<typeof configSchema>, 'sites'> & {
  /** The [sites.NAME] virtual hosts, each validated like the top level (empty for a site's own config). */
  readonly sites: readonly SiteDefinition[];
};

/** The TLS mode in force: the configured one, else required when a certificate is set, else off. */
export function effectiveTlsMode(config: FerryConfig): TlsMode {
  return config.tls.mode ?? (config.tls.cert ? 'required' : 'off');
}
export type FerryConfigInput = z.input<typeof configSchema>;
