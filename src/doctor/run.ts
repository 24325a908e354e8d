/**
 * `ferry doctor` from start to end: open the session (falling back to AUTH TLS when a
 * plain login is refused for want of TLS), look at TLS, probe each data mode (opening a
 * fresh session when a probe left the previous one unusable), judge, recommend. Every
 * socket and listener is closed before it returns.
 */
import { openSession, type OpenedSession, type SessionPlan } from './control-probe.js';
import { probeActive } from './active-probe.js';
import { probePassive } from './passive-probe.js';
import type { DoctorSession } from './session.js';
import { isTlsRequiredRefusal, judgeControl, judgeModes, judgeTls, recommend, type ModeObservation } from './verdict.js';
import { MODE_NAMES, type DoctorReport, type ModeName, type TlsObservation, type TransferOutcome } from './types.js';

export interface DoctorOptions extends SessionPlan {
  /** Passive ports to collect per passive mode. */
  samples: number;
  modes: ModeName[];
}

function offersAuthTls(features: string[]): boolean {
  return features.some((line) => /^AUTH\b.*\bTLS\b/i.test(line));
}

async function probeMode(session: DoctorSession, mode: ModeName, samples: number): Promise<ModeObservation> {
  try {
    return mode === 'pasv' || mode === 'epsv' ? await probePassive(session, mode, samples) : await probeActive(session, mode);
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function transferOf(observation: ModeObservation): TransferOutcome | undefined {
  return 'transfer' in observation ? observation.transfer : undefined;
}

/** Session resumption as the data connections saw it: false as soon as one did not resume. */
function resumedAcross(transfers: Array<TransferOutcome | undefined>): boolean | null {
  const seen = transfers.map((transfer) => transfer?.tlsResumed).filter((resumed): resumed is boolean => typeof resumed === 'boolean');
  return seen.length === 0 ? null : seen.every(Boolean);
}

/** Plain FTP on a server that offers TLS: a second connection with AUTH TLS, one protected listing, QUIT. */
async function probeOfferedTls(plan: SessionPlan): Promise<TlsObservation> {
  const opened = await openSession({ ...plan, tls: 'explicit' });
  const observation = tlsObservation(opened, plan.host, 'explicit', false);
  if (opened.session) {
    let check = await probeMode(opened.session, 'epsv', 1);
    if (!transferOf(check)?.ok && !opened.session.closed) check = await probeMode(opened.session, 'pasv', 1);
    const report = judgeModes({ epsv: check, pasv: { skipped: '' }, port: { skipped: '' }, eprt: { skipped: '' } }).epsv;
    observation.dataSessionResumed = resumedAcross([transferOf(check)]);
    if (report.cause === 'tls-session-reuse-required') observation.reuseFailure = report.detail;
    await opened.session.quit();
  } else if (!observation.failure && opened.control.failure) {
    observation.notTried = `the TLS session did not log in: ${opened.control.failure.message}`;
  }
  return observation;
}

function tlsObservation(opened: OpenedSession, host: string, mode: 'explicit' | 'implicit', requiredForLogin: boolean): TlsObservation {
  const tls = opened.tls;
  return {
    mode,
    host,
    failure: tls?.failure ?? (tls ? undefined : opened.control.failure?.message ?? 'no TLS handshake'),
    protocol: tls?.protocol ?? null,
    cipher: tls?.cipher ?? null,
    certificate: tls?.certificate ?? null,
    dataSessionResumed: null,
    protRefused: tls?.protRefused,
    requiredForLogin,
  };
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  let plan: SessionPlan = options;
  let opened = await openSession(plan);
  let requiredForLogin = false;
  if (plan.tls === 'none' && opened.control.failure?.stage === 'login' && isTlsRequiredRefusal(opened.control.loginReply)) {
    const overTls = await openSession({ ...plan, tls: 'explicit' });
    if (overTls.tls && !overTls.tls.failure) {
      plan = { ...plan, tls: 'explicit' };
      opened = overTls;
      requiredForLogin = true;
    }
  }
  let session = opened.session;
  const sessions: DoctorSession[] = session ? [session] : [];
  try {
    let tls: TlsObservation;
    if (plan.tls !== 'none') tls = tlsObservation(opened, plan.host, plan.tls, requiredForLogin);
    else if (session && offersAuthTls(opened.control.features)) tls = await probeOfferedTls(plan);
    else {
      const why = session ? 'the server does not offer AUTH TLS (FEAT): passwords and data travel in clear text' : opened.control.failure?.stage === 'login' ? 'not tried: login failed' : 'not tried: the control connection failed';
      tls = { mode: 'none', host: plan.host, notTried: why, protocol: null, cipher: null, certificate: null, dataSessionResumed: null, requiredForLogin: false };
    }
    const observations = {} as Record<ModeName, ModeObservation>;
    const unusable = opened.control.failure?.stage === 'login' ? 'not tried: login failed' : 'not tried: the control connection failed';
    for (const mode of MODE_NAMES) {
      if (!options.modes.includes(mode)) {
        observations[mode] = { skipped: `not tried: not in --modes (${options.modes.join(',')})` };
        continue;
      }
      if (session?.closed) {
        session = (await openSession(plan)).session;
        if (session) sessions.push(session);
      }
      // A mode that could not be probed after login worked is broken, not skipped: exit 1, never "all good".
      if (session) observations[mode] = await probeMode(session, mode, options.samples);
      else observations[mode] = opened.session ? { error: 'could not open a new session to probe it' } : { skipped: unusable };
    }
    const modes = judgeModes(observations);
    if (plan.tls !== 'none') {
      tls.dataSessionResumed = resumedAcross(Object.values(observations).map(transferOf));
      const refused = Object.values(modes).find((mode) => mode.cause === 'tls-session-reuse-required');
      if (refused) tls.reuseFailure = refused.detail;
    }
    const partial = { control: judgeControl(opened.control), modes, tls: judgeTls(tls) };
    return { ...partial, recommendation: recommend(partial) };
  } finally {
    for (const open of sessions) await open.quit();
  }
}
