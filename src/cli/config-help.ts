/** The config-file reference shown by `ferry serve --help` (same keys as the README). */
export const CONFIG_KEYS_HELP = `
Config file (TOML, --config FILE); flags override it. Paths are relative to the file.
  host = "0.0.0.0"              listen address ("::" for IPv6 and IPv4)
  port = 2121                   control port
  root = "./ftp-root"           folder served to users without their own home (created if missing)
  banner = "Ferry FTP server ready."
  users_file = "users.toml"     users made with \`ferry user add\`
  max_clients = 0               most concurrent sessions (0 = no limit)
  max_per_ip = 0                most sessions from one address (0 = no limit)
  max_login_failures = 3        failed logins before the connection is closed
  shutdown_grace = 30           seconds running transfers get on SIGINT/SIGTERM
  [anonymous]
  enabled = false               anonymous/ftp users, read-only
  root = "./ftp-root"           their root (defaults to root)
  [passive]
  enabled = true
  ports = "50000-50999"         passive port range (vsftpd pasv_min_port/pasv_max_port); "0" = any free port
  address = "203.0.113.7"       address advertised in 227 replies (vsftpd pasv_address); a host name is resolved at start (it must resolve) and on each PASV
  promiscuous = false           accept data connections from any address (vsftpd pasv_promiscuous)
  [active]
  enabled = true
  connect_from_port_20 = true   connect back from port 20 when running as root, else from an ephemeral port
  promiscuous = false           allow PORT/EPRT to other hosts and ports < 1024 (vsftpd port_promiscuous; bounce risk)
  [timeouts]
  idle = 300                    seconds of control-connection silence before 421
  data_connect = 30             seconds the client has to open a data connection
  data_idle = 300               seconds a data connection may stall
  login = 60                    seconds a new connection has to log in
  [tls]
  mode = "required"             off | optional | login (TLS to log in) | required (login and data);
                                default "required" when cert is set, else "off"; users may override
  cert = "cert.pem"             PEM certificate chain (re-read on SIGHUP)
  key = "key.pem"               PEM private key
  implicit = true               also listen for implicit FTPS (TLS before the greeting)
  implicit_port = 2990          implicit FTPS port (990 is the standard, privileged, port)
  session_reuse = true          data TLS must resume the control session (vsftpd require_ssl_reuse)
  handshake_timeout = 10        seconds a client has to finish a TLS handshake
  strict_upload_eof = true      commit a TLS upload only after the client's close_notify (vsftpd strict_ssl_read_eof)
  [limits]
  glob_max_length = 255         longest LIST/NLST/STAT wildcard pattern
  glob_max_wildcards = 16       most wildcards in one pattern
  listing_max_entries = 100000  most entries one listing reads before it answers
  max_pending_output = 1048576  bytes of unread replies before a client's commands are no longer read
  connection_rate = 50          new connections per second from one address (0 = no limit)
  connection_burst = 200        connections one address may open in a burst
  reserved_descriptors = 256    descriptors kept free for data connections of logged-in sessions
  zero_copy_threads = 64        dedicated threads for sendfile/splice transfers (then streams)
  [defender]
  enabled = true                ban addresses that fail too many logins
  failed_login_delay = 1        seconds before a failed login is answered (vsftpd delay_failed_login)
  threshold = 10                failed logins within observation_time that ban an address
  observation_time = 600        seconds a failure counts
  ban_time = 900                seconds a ban lasts
  allow = ["192.0.2.0/24"]      addresses or CIDR ranges never banned
  [extensions]
  site_symlink = false          SITE SYMLINK: users may create links (relative, inside their root only)
  [log]
  format = "text"               text | json (to stderr)
  level = "info"                fatal | error | warn | info | debug (debug shows the command dialogue) | trace | silent

A bad key or value prints its name and exits with status 2.
`;
