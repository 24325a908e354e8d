/**
 * The doctor's judgement, pure code: observations in, verdicts, cause codes, fix texts
 * naming the setting in Ferry, vsftpd, ProFTPD and Pure-FTPd, one recommendation and
 * the exit code out. No sockets here, so every cause is unit-tested.
 */
import { EXIT } from '../cli/remote.js';
import { asIPv4, isUnroutable, sameAddress } from '../protocol/address.js';
import { showReply } from './session.js';
import type {
  ActiveObservation,
  Cause,
  ConnectOutcome,
  ControlObservation,
  ControlReport,
  DoctorReport,
  ModeName,
  ModeReport,
  PassiveObservation,
  ServerReply,
  TlsObservation,
  TlsReport,
  TransferOutcome,
} from './types.js';

export const NAT_SETTINGS = 'passive.address (Ferry) / pasv_address (vsftpd) / MasqueradeAddress (ProFTPD) / -P (Pure-FTPd)';
export const RANGE_SETTINGS = 'Ferry passive.ports, vsftpd pasv_min_port/pasv_max_port, ProFTPD PassivePorts, Pure-FTPd -p';
const REUSE_FIX =
  "the server requires each data connection to resume the control connection's TLS session and this one did not: use a client that resumes TLS sessions (curl, lftp, FileZilla), or drop the requirement (Ferry tls.session_reuse = false, vsftpd require_ssl_reuse=NO, ProFTPD TLSOptions NoSessionReuseRequired)";

/** A mode the doctor did not try. */
export interface NotTried {
  skipped: string;
}

/** A probe that stopped with an error (no reply, connection lost). */
export interface ProbeError {
  error: string;
}

export type ModeObservation = PassiveObservation | ActiveObservation | NotTried | ProbeError;

/**
 * A refused plain login that means "use TLS" (vsftpd 530 "Non-anonymous sessions must use
 * encryption", ProFTPD 550/534, Pure-FTPd 421 "...cleartext..."). A 421 without such words
 * is the usual "too many connections", not a TLS policy.
 */
export function isTlsRequiredRefusal(reply: ServerReply | undefined): boolean {
  if (!reply) return false;
  if (reply.code === 534) return true;
  return (reply.code === 530 || reply.code === 550 || reply.code === 421) && /\b(TLS|SSL|AUTH)\b|encrypt|secure|cleartext/i.test(reply.text);
}

/** A private, loopback or link-local IPv4 address (unroutable on the Internet). */
export function isPrivateAddress(address: string): boolean {
  const ipv4 = asIPv4(address);
  return ipv4 !== null && isUnroutable(ipv4);
}

export function portRange(ports: number[]): string | undefined {
  if (ports.length === 0) return undefined;
  return `${Math.min(...ports)}-${Math.max(...ports)}`;
}

// ---------------------------------------------------------------------------------------
// Control
// ---------------------------------------------------------------------------------------

export function judgeControl(observation: ControlObservation): ControlReport {
  const { failure, loginReply, ...facts } = observation;
  const base = { ...facts, loginReply: loginReply ? showReply(loginReply) : '', failedAt: failure?.stage ?? null };
  if (!failure) return { ...base, login: 'ok', verdict: 'ok', cause: 'ok', detail: `logged in as ${observation.user}`, fix: '' };
  if (failure.stage === 'login') {
    return {
      ...base,
      login: 'failed',
      verdict: 'broken',
      cause: 'login-failed',
      detail: failure.message,
      fix: `the server refused the login (${base.loginReply}): check the user name and the password (FERRY_PASSWORD, ~/.netrc), or that the account may log in`,
    };
  }
  const where = `${observation.host}:${observation.port}`;
  const fix =
    failure.stage === 'dns'
      ? `check the host name ${observation.host} (DNS)`
      : failure.stage === 'tls'
        ? `the TLS handshake with ${where} failed: check the server's certificate and key and that it speaks TLS 1.2 or later${observation.port === 21 ? '' : ' (and that this port is the right one for implicit or explicit FTPS)'}`
        : `cannot reach the FTP server at ${where}: check the host and port, that the server runs, and that firewalls let tcp port ${observation.port} through`;
  return { ...base, login: 'failed', verdict: 'broken', cause: 'unknown', detail: failure.message, fix };
}

// ---------------------------------------------------------------------------------------
// Modes
// ---------------------------------------------------------------------------------------

function connectCause(outcome: Extract<ConnectOutcome, { ok: false }>): Cause {
  if (outcome.failure === 'timeout') return 'data-port-blocked';
  if (outcome.failure === 'refused' || outcome.failure === 'unreachable') return 'data-port-refused';
  return 'unknown';
}

/** A transfer that failed after the data connection: session reuse, or something unnamed. */
function transferCause(transfer: TransferOutcome, protectedData: boolean): Cause {
  if (!protectedData) return 'unknown';
  const refusedTls = transfer.reply?.code === 522 || (transfer.reply?.code === 425 && transfer.tlsResumed !== true);
  return transfer.stage === 'tls' || (transfer.connected && refusedTls) ? 'tls-session-reuse-required' : 'unknown';
}

function describeTransfer(transfer: TransferOutcome): string {
  if (transfer.ok) {
    const tls = transfer.tlsResumed === null ? '' : transfer.tlsResumed ? ', TLS session resumed' : ', TLS session not resumed';
    return `LIST: ${transfer.reply ? showReply(transfer.reply) : 'ok'} (${transfer.bytes} bytes${tls})`;
  }
  const reply = transfer.reply && !transfer.message?.includes(showReply(transfer.reply)) ? ` (server: ${showReply(transfer.reply)})` : '';
  return `LIST failed: ${transfer.message ?? 'unknown'}${reply}`;
}

interface Judged {
  cause: Cause;
  detail: string;
  extra: Partial<ModeReport>;
}

function judgePassive(observation: PassiveObservation): Judged {
  const verb = observation.mode.toUpperCase();
  const extra: Partial<ModeReport> = { ports: observation.ports, range: portRange(observation.ports) };
  if (observation.refusal) return { cause: 'unknown', detail: `the server refused ${verb}: ${showReply(observation.refusal)}`, extra };
  const advertised = observation.advertised!;
  extra.advertised = `${advertised.host}:${advertised.port}`;
  const direct = observation.direct!;
  const differs = !sameAddress(advertised.host, observation.controlAddress);
  const where = observation.mode === 'pasv' ? `227 advertises ${extra.advertised}` : `229 offers port ${advertised.port}`;
  const transfer = observation.transfer;
  if (transfer?.reply) extra.reply = showReply(transfer.reply);
  if (direct.ok) {
    extra.ms = direct.ms;
    const same = observation.mode === 'pasv' ? (differs ? ` (the control address is ${observation.controlAddress})` : ' (the control address)') : '';
    const detail = `${where}${same}; connected in ${direct.ms} ms; ${transfer ? describeTransfer(transfer) : 'no LIST'}`;
    if (!transfer || transfer.ok) return { cause: 'ok', detail, extra };
    return { cause: transferCause(transfer, observation.protectedData), detail, extra };
  }
  if (!differs) return { cause: connectCause(direct), detail: `${where}; ${direct.message}`, extra };
  const private_ = isPrivateAddress(advertised.host);
  const kind = private_ ? 'a private address' : 'an address other than the control address';
  const via = observation.viaControl;
  const viaText = via ? (via.ok ? `the control address ${observation.controlAddress} with a fresh port works (${transfer ? describeTransfer(transfer) : 'connected'})` : `the control address ${observation.controlAddress} fails too: ${via.message}`) : 'no second port to try';
  const detail = `${where}, ${kind}, but the server is reached at ${observation.controlAddress}; ${direct.message}; ${viaText}`;
  if (via?.ok) extra.ms = via.ms;
  if (private_) return { cause: 'advertised-private-address', detail, extra };
  if (via?.ok || direct.failure === 'unreachable') return { cause: 'advertised-unreachable-address', detail, extra };
  return { cause: connectCause(direct), detail, extra };
}

function judgeActive(observation: ActiveObservation): Judged {
  const extra: Partial<ModeReport> = {};
  if (observation.notTried) return { cause: 'unknown', detail: `not tried: ${observation.notTried}`, extra };
  const reply = observation.reply!;
  extra.reply = showReply(reply);
  const strangers = observation.strangers.length > 0 ? `; refused connections from ${observation.strangers.join(', ')} (not the server)` : '';
  if (reply.code !== 200) {
    return { cause: reply.code >= 500 ? 'port-refused-by-server' : 'unknown', detail: `${observation.command}: the server answered ${showReply(reply)}`, extra };
  }
  const transfer = observation.transfer!;
  if (transfer.reply) extra.reply = showReply(transfer.reply);
  const detail = `${observation.command} (listening on ${observation.localAddress}): ${showReply(reply)}; ${describeTransfer(transfer)}${strangers}`;
  if (transfer.ok) return { cause: 'ok', detail, extra };
  if (!transfer.connected) return { cause: transfer.stage === 'connect' || transfer.reply?.code === 425 ? 'server-cannot-connect-back' : 'unknown', detail, extra };
  return { cause: transferCause(transfer, observation.protectedData), detail, extra };
}

interface FixContext {
  activeWorks: boolean;
}

function passiveFix(cause: Cause, observation: PassiveObservation, context: FixContext): string {
  const range = portRange(observation.ports) ?? 'none seen';
  const orActive = context.activeWorks ? ', or use active mode' : '';
  switch (cause) {
    case 'advertised-private-address':
    case 'advertised-unreachable-address':
      return `use passive; the server must advertise ${observation.controlAddress}: set ${NAT_SETTINGS}`;
    case 'data-port-blocked':
      return `the server's firewall drops data connections: open the passive range (observed ports ${range}; ${RANGE_SETTINGS}) on tcp${orActive}`;
    case 'data-port-refused':
      return `the server's data ports refuse connections (a firewall rejects them, or nothing listens where the server says): open the passive range (observed ports ${range}; ${RANGE_SETTINGS}) on tcp${orActive}`;
    case 'tls-session-reuse-required':
      return REUSE_FIX;
    default:
      if (observation.refusal) return `the server does not offer ${observation.mode.toUpperCase()} (Ferry passive.enabled)${context.activeWorks ? '; use active mode' : ''}`;
      return 'run ferry doctor -d to see the dialogue';
  }
}

function activeFix(cause: Cause, observation: ActiveObservation): string {
  switch (cause) {
    case 'port-refused-by-server': {
      const behindNat = isPrivateAddress(observation.localAddress) && !isPrivateAddress(observation.controlAddress);
      return behindNat
        ? `the server refused ${observation.command}: this machine is behind NAT (local address ${observation.localAddress} is private) or the server forbids PORT to other addresses; use passive`
        : `the server refused ${observation.command} (${observation.reply ? showReply(observation.reply) : ''}): active mode is disabled or restricted on the server (Ferry active.enabled, vsftpd port_enable, ProFTPD AllowForeignAddress); use passive`;
    }
    case 'server-cannot-connect-back':
      return `active mode is broken (the server cannot connect back to this machine: a firewall or NAT in front of the client); use passive mode`;
    case 'tls-session-reuse-required':
      return REUSE_FIX;
    default:
      return observation.notTried ? '' : 'run ferry doctor -d to see the dialogue';
  }
}

function isNotTried(observation: ModeObservation): observation is NotTried {
  return 'skipped' in observation;
}

function isProbeError(observation: ModeObservation): observation is ProbeError {
  return 'error' in observation;
}

function isPassive(observation: PassiveObservation | ActiveObservation): observation is PassiveObservation {
  return observation.mode === 'pasv' || observation.mode === 'epsv';
}

export function judgeModes(observations: Record<ModeName, ModeObservation>): Record<ModeName, ModeReport> {
  const judged = new Map<ModeName, Judged>();
  for (const [name, observation] of Object.entries(observations) as Array<[ModeName, ModeObservation]>) {
    if (isNotTried(observation)) continue;
    if (isProbeError(observation)) judged.set(name, { cause: 'unknown', detail: `the probe stopped: ${observation.error}`, extra: {} });
    else if (isPassive(observation)) judged.set(name, judgePassive(observation));
    else if (!observation.notTried) judged.set(name, judgeActive(observation));
  }
  const works = (names: ModeName[]) => names.some((name) => judged.get(name)?.cause === 'ok');
  const context: FixContext = { activeWorks: works(['port', 'eprt']) };
  const reports = {} as Record<ModeName, ModeReport>;
  for (const [name, observation] of Object.entries(observations) as Array<[ModeName, ModeObservation]>) {
    const result = judged.get(name);
    if (isNotTried(observation) || !result) {
      const why = isNotTried(observation) ? observation.skipped : `not tried: ${(observation as ActiveObservation).notTried}`;
      reports[name] = { verdict: 'skipped', cause: 'unknown', detail: why, fix: '' };
      continue;
    }
    const fix = result.cause === 'ok' ? '' : isProbeError(observation) ? 'run ferry doctor -d to see the dialogue' : isPassive(observation) ? passiveFix(result.cause, observation, context) : activeFix(result.cause, observation);
    reports[name] = { verdict: result.cause === 'ok' ? 'ok' : 'broken', cause: result.cause, detail: result.detail, fix, ...result.extra };
  }
  return reports;
}

// ---------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------

export function daysLeft(days: number): string {
  if (days < 0) return `expired ${-days} day${days === -1 ? '' : 's'} ago`;
  return `${days} day${days === 1 ? '' : 's'} left`;
}

function describeCertificate(observation: TlsObservation): string {
  const cert = observation.certificate;
  if (!cert) return 'no certificate';
  const trust = cert.trusted ? 'trusted' : `not trusted (${cert.verifyError ?? 'unverified'}${cert.selfSigned ? ', self-signed' : ''})`;
  const name = cert.nameMatches ? `names ${observation.host}` : `does not name ${observation.host} (names: ${cert.names.join(', ') || 'none'})`;
  return `certificate ${cert.subject} issued by ${cert.issuer}, ${trust}, ${name}, valid until ${cert.validTo.slice(0, 10)} (${daysLeft(cert.daysLeft)})`;
}

function resumption(observation: TlsObservation): string {
  if (observation.reuseFailure) return `data connection refused: ${observation.reuseFailure}`;
  if (observation.dataSessionResumed === null) return 'data session resumption not tested (no protected data connection)';
  return observation.dataSessionResumed ? 'data connections resume the TLS session' : 'data connections do not resume the TLS session (the server accepts it)';
}

export function judgeTls(observation: TlsObservation): TlsReport {
  const base = {
    mode: observation.mode,
    protocol: observation.protocol,
    cipher: observation.cipher,
    certificate: observation.certificate,
    dataSessionResumed: observation.dataSessionResumed,
    requiredForLogin: observation.requiredForLogin,
  };
  if (observation.mode === 'none') return { ...base, verdict: 'skipped', cause: 'unknown', detail: observation.notTried ?? 'not tried', fix: '' };
  if (observation.failure) {
    return { ...base, verdict: 'broken', cause: 'unknown', detail: observation.failure, fix: "check the server's TLS setup: certificate and key, TLS 1.2 or later" };
  }
  const cert = observation.certificate;
  const required = observation.requiredForLogin ? '; the server requires TLS to log in' : '';
  const detail = `${observation.protocol ?? '?'} ${observation.cipher ?? '?'}; ${describeCertificate(observation)}; ${resumption(observation)}${observation.protRefused ? `; ${observation.protRefused}` : ''}${required}`;
  const broken = (cause: Cause, fix: string): TlsReport => ({ ...base, verdict: 'broken', cause, detail, fix });
  if (cert && (cert.daysLeft < 0 || cert.verifyError === 'CERT_HAS_EXPIRED')) {
    return broken('tls-expired', `the certificate expired on ${cert.validTo.slice(0, 10)}: renew it (Ferry tls.cert, re-read on SIGHUP; vsftpd rsa_cert_file; ProFTPD TLSRSACertificateFile; Pure-FTPd /etc/ssl/private/pure-ftpd.pem)`);
  }
  if (cert && !cert.trusted) {
    const what = cert.selfSigned ? 'self-signed' : 'untrusted';
    return broken('tls-certificate-untrusted', `the certificate is ${what}: install a certificate from a CA, or give clients the CA (--ca / curl --cacert)`);
  }
  if (cert && !cert.nameMatches) {
    return broken('tls-name-mismatch', `the certificate names ${cert.names.join(', ') || 'nothing'}, not ${observation.host}: install a certificate for ${observation.host}, or connect with a name it lists`);
  }
  if (observation.reuseFailure) return broken('tls-session-reuse-required', REUSE_FIX);
  if (observation.protRefused) return broken('unknown', 'the server refuses PROT P: data connections would travel in clear text; enable TLS for data on the server');
  return { ...base, verdict: 'ok', cause: 'ok', detail, fix: '' };
}

// ---------------------------------------------------------------------------------------
// Recommendation and exit code
// ---------------------------------------------------------------------------------------

export function recommend(report: Omit<DoctorReport, 'recommendation'>): string {
  if (report.control.verdict === 'broken') return report.control.fix;
  for (const name of ['pasv', 'epsv'] as const) if (report.modes[name].verdict === 'broken') return report.modes[name].fix;
  if (report.tls.verdict === 'broken') return report.tls.fix;
  for (const name of ['port', 'eprt'] as const) if (report.modes[name].verdict === 'broken') return report.modes[name].fix;
  const skipped = Object.values(report.modes).some((mode) => mode.verdict === 'skipped');
  return `${skipped ? 'every mode tried works' : 'every mode works'}; passive is the safe default for clients behind NAT`;
}

/** 5 network, 6 TLS handshake, 3 login; then 1 when a data mode is broken, 6 for a TLS problem, else 0. */
export function exitCode(report: DoctorReport): number {
  const { control } = report;
  if (control.verdict === 'broken') return control.failedAt === 'login' ? EXIT.login : control.failedAt === 'tls' ? EXIT.tls : EXIT.network;
  if (Object.values(report.modes).some((mode) => mode.verdict === 'broken')) return EXIT.failure;
  if (report.tls.verdict === 'broken') return EXIT.tls;
  return EXIT.ok;
}
