/** The options every client command shares: data mode, TLS, trace, timeout. */
import type { Command } from 'commander';

export function connectionOptions(command: Command): Command {
  return command
    .option('--passive', 'passive mode (default): EPSV, then PASV')
    .option('--active', 'active mode: the server connects back (EPRT, then PORT)')
    .option('--epsv', 'passive with EPSV only (RFC 2428)')
    .option('--pasv', 'passive with PASV only: the 227 reply and its p1*256+p2 port')
    .option('--eprt', 'active with EPRT only (RFC 2428)')
    .option('--port', 'active with PORT only (IPv4)')
    .option('--trust-pasv-address', "connect to the address in a 227 reply even when it is not the server's (default: use the server's address, as curl does)")
    .option('--tls', 'explicit FTPS (AUTH TLS) for ftp:// URLs; ftps:// URLs use implicit TLS')
    .option('-k, --insecure', 'do not verify the server certificate')
    .option('-d, --debug', 'print the command/reply dialogue and data connections on stderr')
    .option('--timeout <seconds>', 'reply and connect timeout', '30');
}
