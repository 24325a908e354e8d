/** `ferry doctor URL`: a read-only diagnosis of an FTP/FTPS server's control, TLS and data modes. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { renderText } from '../doctor/report.js';
import { runDoctor } from '../doctor/run.js';
import { MODE_NAMES, type ModeName } from '../doctor/types.js';
import { exitCode } from '../doctor/verdict.js';
import { exitCodeFor, parseFtpUrl, resolveCredentials, UsageError } from './remote.js';

interface DoctorFlags {
  json?: boolean;
  timeout: string;
  tls?: boolean;
  ca?: string;
  samples: string;
  modes: string;
  debug?: boolean;
}

const HELP = `
Probes, all read-only (LIST of the login directory, never STOR/DELE/MKD): DNS and TCP
connect, greeting, FEAT, login; TLS (certificate chain, names, expiry, trust, protocol,
cipher, data session resumption); PASV, EPSV, PORT and EPRT, each with one LIST.
ftps:// is implicit FTPS; ftp:// with --tls is explicit (AUTH TLS); plain ftp:// also
probes TLS when FEAT offers AUTH TLS, and logs in over TLS when the server demands it.

Exit codes: 0 every mode tried works and TLS (when probed) is fine; 1 a data mode is
broken (even when TLS is broken too); 3 login failed; 5 the control connection failed
(DNS, connect, greeting); 6 a TLS problem (untrusted, name mismatch, expired, handshake)
while every mode tried works; 2 usage.

--json prints {"control", "modes": {"pasv", "epsv", "port", "eprt"}, "tls", "recommendation"};
each mode has verdict (ok|broken|skipped), cause, detail and fix.`;

function positiveNumber(text: string, option: string, integer: boolean): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) throw new UsageError(`${option}: not a positive ${integer ? 'whole number' : 'number'}: ${text}`);
  return value;
}

function parseModes(text: string): ModeName[] {
  const modes = text.split(',').map((mode) => mode.trim().toLowerCase()).filter(Boolean);
  const unknown = modes.filter((mode) => !(MODE_NAMES as readonly string[]).includes(mode));
  if (modes.length === 0 || unknown.length > 0) throw new UsageError(`--modes: expected a comma list of ${MODE_NAMES.join(',')}${unknown.length ? `, not ${unknown.join(',')}` : ''}`);
  return modes as ModeName[];
}

/** A --ca file that cannot be read is a usage error (exit 2), not a missing remote file. */
function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--ca: cannot read ${path}: ${(error as Error).message}`);
  }
}

async function doctor(url: string, flags: DoctorFlags): Promise<void> {
  try {
    const target = parseFtpUrl(url, { tls: flags.tls });
    const stepMs = positiveNumber(flags.timeout, '--timeout', false) * 1000;
    const samples = positiveNumber(flags.samples, '--samples', true);
    const modes = parseModes(flags.modes);
    const ca = flags.ca === undefined ? undefined : readCa(flags.ca);
    const { user, password } = await resolveCredentials(target);
    const report = await runDoctor({
      host: target.host,
      port: target.port,
      tls: target.secure === false ? 'none' : target.secure,
      user,
      password,
      stepMs,
      ca,
      samples,
      modes,
      trace: flags.debug ? (line) => process.stderr.write(line + '\n') : undefined,
    });
    process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : renderText(report));
    process.exitCode = exitCode(report);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
  }
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor <url>')
    .description('diagnose an FTP/FTPS server: control connection, TLS, and every data mode (read-only)')
    .option('--json', 'print the report as JSON')
    .option('--timeout <seconds>', 'timeout of each probe step', '10')
    .option('--tls', 'explicit FTPS (AUTH TLS) for ftp:// URLs; ftps:// URLs use implicit TLS')
    .option('--ca <file>', 'PEM CA certificate to trust besides the system CAs')
    .option('--samples <n>', 'passive ports to collect per passive mode, to estimate the range', '4')
    .option('--modes <list>', `data modes to probe, a comma list of ${MODE_NAMES.join(',')}`, MODE_NAMES.join(','))
    .option('-d, --debug', 'print the command/reply dialogue and data connections on stderr')
    .addHelpText('after', HELP)
    .action((url: string, flags: DoctorFlags) => doctor(url, flags));
}
