/**
 * The one configuration schema. TOML keys, their defaults and their checks live here;
 * `ferry serve --help` and the README document the same keys.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseAddressRange, parsePortRange } from '../protocol/address.js';

/** TLS policies, weakest first (vsftpd force_local_logins_ssl / force_local_data_ssl). */
export const TLS_MODES = ['off', 'optional', 'login', 'required'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

const seconds = z.number().positive().max(86_400 * 7);
const tcpPort = z.number().int().min(0).max(65535);

/** "MIN-MAX", or "0" to let the OS pick any free port. */
const portRange = z
  .string()
  .refine((text) => text.trim() === '0' || parsePortRange(text) !== null, {
    message: 'expected "MIN-MAX" with 1 <= MIN <= MAX <= 65535, or "0" for any free port',
  })
  .transform((text) => (text.trim() === '0' ? null : parsePortRange(text)));

const hostname = z
  .string()
  .refine((text) => isIP(text) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(text), {
    message: 'expected an IP address or a host name',
  });

export const configSchema = z.strictObject({
  /** Listen address for the control connection; "::" listens on IPv6 and IPv4. */
  host: z.string().refine((text) => isIP(text) !== 0, { message: 'expected an IP address' }).default('0.0.0.0'),
  port: tcpPort.default(2121),
  /** Storage root for users without their own home, created if missing. */
  root: z.string().min(1).default('./ftp-root'),
  banner: z.string().max(512).default('Ferry FTP server ready.'),
  users_file: z.string().min(1).optional(),
  /** Most concurrent sessions (0 = no limit); over it a client gets 421. */
  max_clients: z.number().int().min(0).default(0),
  max_per_ip: z.number().int().min(0).default(0),
  /** Failed logins allowed on one connection before it is closed with 421. */
  max_login_failures: z.number().int().min(1).default(3),
  /** Seconds running transfers get to finish on SIGINT/SIGTERM. */
  shutdown_grace: seconds.default(30),
  anonymous: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Root for anonymous users (read-only); defaults to `root`. */
      root: z.string().min(1).optional(),
    })
    .prefault({}),
  passive: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Passive port range (vsftpd pasv_min_port/pasv_max_port). */
      ports: portRange.default({ min: 50000, max: 50999 }),
      /** Address advertised in 227 replies (vsftpd pasv_address, ProFTPD MasqueradeAddress); a host name is resolved at start (see startup-checks.ts) and on each PASV. */
      address: hostname.optional(),
      /** Accept passive data connections from any address (vsftpd pasv_promiscuous). */
      promiscuous: z.boolean().default(false),
    })
    .prefault({}),
  active: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Connect back from port 20 when the process may bind it, else from an ephemeral port. */
      connect_from_port_20: z.boolean().default(true),
      /** Allow PORT/EPRT to other hosts and to ports below 1024 (vsftpd port_promiscuous): a bounce risk. */
      promiscuous: z.boolean().default(false),
    })
    .prefault({}),
  timeouts: z
    .strictObject({
      /** Control connection idle time before 421. */
      idle: seconds.default(300),
      /** Time a client has to open the data connection. */
      data_connect: seconds.default(30),
      /** Time a data connection may stall mid-transfer. */
      data_idle: seconds.default(300),
      /** Time a new connection has to log in before 421 (ProFTPD TimeoutLogin). */
      login: seconds.default(60),
    })
    .prefault({}),
  tls: z
    .strictObject({
      /** off | optional | login (TLS required to log in) | required (login and data); default: required when a certificate is set. */
      mode: z.enum(TLS_MODES).optional(),
      /** PEM certificate chain and private key; re-read on SIGHUP. */
      cert: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
      /** Implicit FTPS listener (TLS before the greeting) when TLS is on. */
      implicit: z.boolean().default(true),
      implicit_port: tcpPort.default(2990),
      /** Data-connection TLS must resume the control connection's session (vsftpd require_ssl_reuse). */
      session_reuse: z.boolean().default(true),
      /** Seconds a client has to finish a TLS handshake. */
      handshake_timeout: seconds.default(10),
      /**
       * A TLS upload is committed only when the client ended it with close_notify (vsftpd
       * strict_ssl_read_eof); a bare TCP close could be an attacker truncating the stream.
       */
      strict_upload_eof: z.boolean().default(true),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /** Longest LIST/NLST/STAT wildcard pattern, in characters. */
      glob_max_length: z.number().int().min(1).max(4096).default(255),
      /** Most wildcards ("*", "?", "[...]") in one pattern. */
      glob_max_wildcards: z.number().int().min(1).max(256).default(16),
      /** Most directory entries one listing (LIST, NLST, MLSD, STAT) reads before it answers. */
      listing_max_entries: z.number().int().min(1).default(100_000),
      /** Bytes of replies a client may leave unread: past it its commands are no longer read, then it is closed. */
      max_pending_output: z.number().int().min(4096).default(1024 * 1024),
      /** New connections per second from one address (token bucket; 0 = no limit). */
      connection_rate: z.number().min(0).default(50),
      /** Connections one address may open in a burst above the rate. */
      connection_burst: z.number().int().min(1).default(200),
      /** Descriptors kept free for logged-in sessions' data connections: new connections are refused below it. */
      reserved_descriptors: z.number().int().min(0).default(256),
      /** Dedicated threads for zero-copy transfers (never libuv's shared pool); past it, transfers use streams. */
      zero_copy_threads: z.number().int().min(0).max(1024).default(64),
    })
    .prefault({}),
  defender: z
    .strictObject({
      /** Score failed logins per address across sessions and ban addresses past the threshold (SFTPGo's defender). */
      enabled: z.boolean().default(true),
      /** Seconds before a failed login is answered (vsftpd delay_failed_login); costs a timer, no thread. */
      failed_login_delay: z.number().min(0).max(60).default(1),
      /** Failed logins from one address within observation_time that trigger a ban. */
      threshold: z.number().int().min(1).default(10),
      /** Seconds a failure counts towards the threshold. */
      observation_time: seconds.default(600),
      /** Seconds an address stays banned. */
      ban_time: seconds.default(900),
      /** Addresses or CIDR ranges never banned (e.g. "192.0.2.0/24", "::1"). */
      allow: z
        .array(
          z.string().refine((text) => parseAddressRange(text) !== null, {
            message: 'expected an IP address or a CIDR range (IPv4 or IPv6), e.g. "192.0.2.0/24", "2001:db8::/32", "::1"',
          }),
        )
        .default([]),
    })
    .prefault({}),
  extensions: z
    .strictObject({
      /** SITE SYMLINK: users may create symbolic links (relative, inside their root only). */
      site_symlink: z.boolean().default(false),
    })
    .prefault({}),
  log: z
    .strictObject({
      format: z.enum(['text', 'json']).default('text'),
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
}).superRefine((config, context) => {
  const mode = config.tls.mode ?? (config.tls.cert ? 'required' : 'off');
  if (mode === 'off') return;
  for (const key of ['cert', 'key'] as const) {
    if (!config.tls[key]) context.addIssue({ code: 'custom', path: ['tls', key], message: `required when tls.mode is "${mode}"` });
  }
});

export type FerryConfig = z.output<typeof configSchema>;

/** The TLS mode in force: the configured one, else required when a certificate is set, else off. */
export function effectiveTlsMode(config: FerryConfig): TlsMode {
  return config.tls.mode ?? (config.tls.cert ? 'required' : 'off');
}
export type FerryConfigInput = z.input<typeof configSchema>;
