/**
 * The shapes of `ferry doctor`: what the probes observe (plain facts, no judgement) and
 * the report the verdict turns them into. The report is a JSON contract other tools
 * read (`ferry doctor --json`): its keys and cause codes do not change lightly.
 */

export const CAUSES = [
  'ok',
  'advertised-private-address',
  'advertised-unreachable-address',
  'data-port-blocked',
  'data-port-refused',
  'port-refused-by-server',
  'server-cannot-connect-back',
  'tls-session-reuse-required',
  'tls-certificate-untrusted',
  'tls-name-mismatch',
  'tls-expired',
  'login-failed',
  'unknown',
] as const;

export type Cause = (typeof CAUSES)[number];

export const MODE_NAMES = ['pasv', 'epsv', 'port', 'eprt'] as const;
export type ModeName = (typeof MODE_NAMES)[number];
export type PassiveModeName = 'pasv' | 'epsv';
export type ActiveModeName = 'port' | 'eprt';

export type Verdict = 'ok' | 'broken' | 'skipped';

export interface ServerReply {
  code: number;
  text: string;
}

// ---------------------------------------------------------------------------------------
// Observations
// ---------------------------------------------------------------------------------------

/** How one TCP connection attempt ended. */
export type ConnectOutcome =
  | { ok: true; ms: number }
  | { ok: false; failure: 'refused' | 'timeout' | 'unreachable' | 'error'; message: string };

/** How one LIST over a data connection ended. */
export interface TransferOutcome {
  ok: boolean;
  /** The data connection was established (TCP). */
  connected: boolean;
  /** Where it stopped: the server's reply, the TCP connection, the TLS handshake, reading. */
  stage?: 'reply' | 'connect' | 'tls' | 'data';
  /** The last reply that matters: the final 226 or the refusal (425, 522, ...). */
  reply?: ServerReply;
  bytes: number;
  /** With PROT P: whether the data connection resumed the control connection's TLS session. */
  tlsResumed: boolean | null;
  message?: string;
}

/** What the control connection showed, as observed and as reported. */
export interface ControlFacts {
  host: string;
  port: number;
  /** The IP connected to. */
  address: string;
  addresses: string[];
  /** This machine's address on the control connection. */
  localAddress: string;
  dnsMs: number | null;
  connectMs: number | null;
  greeting: string;
  features: string[];
  user: string;
  system: string | null;
}

/** The control connection as far as it got. */
export interface ControlObservation extends ControlFacts {
  /** The reply that ended the login (230, or the refusal). */
  loginReply?: ServerReply;
  /** Where the control connection stopped, when it did. */
  failure?: { stage: 'dns' | 'connect' | 'greeting' | 'tls' | 'login' | 'dialogue'; message: string };
}

export interface PassiveObservation {
  mode: PassiveModeName;
  /** The control connection's remote address (the server as this machine reaches it). */
  controlAddress: string;
  /** The PASV/EPSV reply when it was not 227/229. */
  refusal?: ServerReply;
  /** The address and port the server told us to connect to (EPSV: the control address). */
  advertised?: { host: string; port: number };
  /** Connecting to the advertised address. */
  direct?: ConnectOutcome;
  /** When `direct` failed and the advertised address differs: the control address with a fresh port. */
  viaControl?: ConnectOutcome;
  transfer?: TransferOutcome;
  /** Every port the server offered (the first reply and the samples). */
  ports: number[];
  /** PROT P was in force (the data connection was TLS). */
  protectedData: boolean;
}

export interface ActiveObservation {
  mode: ActiveModeName;
  controlAddress: string;
  /** The address this machine listened on (the control connection's local address). */
  localAddress: string;
  /** The command as sent: "PORT 127,0,0,1,156,64". */
  command: string;
  /** The reply to PORT/EPRT; absent when the command could not be sent (IPv6 and PORT). */
  reply?: ServerReply;
  /** Why the mode was not tried at all. */
  notTried?: string;
  transfer?: TransferOutcome;
  /** Connections from other addresses that were refused. */
  strangers: string[];
  /** PROT P was in force (the data connection was TLS). */
  protectedData: boolean;
}

export interface CertificateFacts {
  subject: string;
  issuer: string;
  names: string[];
  validTo: string;
  daysLeft: number;
  selfSigned: boolean;
  trusted: boolean;
  nameMatches: boolean;
  /** Node's verification error ("DEPTH_ZERO_SELF_SIGNED_CERT"...), null when verified. */
  verifyError: string | null;
  chain: Array<{ subject: string; issuer: string }>;
}

export interface TlsObservation {
  mode: 'none' | 'explicit' | 'implicit';
  /** The host name clients use (the certificate must name it). */
  host: string;
  /** Why TLS was not probed (mode "none"). */
  notTried?: string;
  /** AUTH TLS refused, or the handshake failed. */
  failure?: string;
  protocol: string | null;
  cipher: string | null;
  certificate: CertificateFacts | null;
  /** null: no protected data connection was made. */
  dataSessionResumed: boolean | null;
  /** A protected data connection the server refused for want of a resumed session. */
  reuseFailure?: string;
  /** PBSZ 0 / PROT P refused: data connections stay in clear text. */
  protRefused?: string;
  /** The plain login was refused because the server requires TLS (so the session used TLS). */
  requiredForLogin: boolean;
}

// ---------------------------------------------------------------------------------------
// Report (the JSON contract)
// ---------------------------------------------------------------------------------------

export interface ModeReport {
  verdict: Verdict;
  cause: Cause;
  detail: string;
  fix: string;
  /** PASV/EPSV: "host:port" the server told the client to connect to. */
  advertised?: string;
  /** PASV/EPSV: ports the server offered. */
  ports?: number[];
  /** PASV/EPSV: "min-max" of `ports`. */
  range?: string;
  /** The data connection's connect time. */
  ms?: number;
  /** The server's last relevant reply ("226 Transfer complete."). */
  reply?: string;
}

export interface ControlReport extends ControlFacts {
  login: 'ok' | 'failed';
  loginReply: string;
  /** The step that failed: dns, connect, greeting, tls, login, dialogue; null when all went well. */
  failedAt: NonNullable<ControlObservation['failure']>['stage'] | null;
  verdict: 'ok' | 'broken';
  cause: Cause;
  detail: string;
  fix: string;
}

export interface TlsReport {
  mode: 'none' | 'explicit' | 'implicit';
  verdict: Verdict;
  cause: Cause;
  protocol: string | null;
  cipher: string | null;
  certificate: CertificateFacts | null;
  dataSessionResumed: boolean | null;
  /** A plain login was refused because the server requires TLS; the doctor logged in with AUTH TLS. */
  requiredForLogin: boolean;
  detail: string;
  fix: string;
}

export interface DoctorReport {
  control: ControlReport;
  modes: Record<ModeName, ModeReport>;
  tls: TlsReport;
  recommendation: string;
}
