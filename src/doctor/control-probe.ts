/**
 * The control connection probe, which also opens the session the other probes use: DNS
 * (timed), TCP connect (timed), TLS (implicit at once, explicit after AUTH TLS), the
 * greeting, FEAT, login, PBSZ 0 / PROT P under TLS, SYST. It stops at the first step
 * that fails and says which one.
 */
import { lookup } from 'node:dns/promises';
import type { TLSSocket } from 'node:tls';
import { ControlConnection, type Trace } from '../client/control.js';
import { canonicalAddress } from '../protocol/address.js';
import { DoctorSession, TIMED_OUT, replyOf, showReply, within } from './session.js';
import { describeCertificate, tlsParameters, trustAnchors } from './tls-probe.js';
import type { CertificateFacts, ControlObservation } from './types.js';

export interface SessionPlan {
  host: string;
  port: number;
  tls: 'none' | 'explicit' | 'implicit';
  user: string;
  password: string;
  stepMs: number;
  /** PEM of a CA to trust besides the system's. */
  ca?: string;
  trace?: Trace;
}

export interface TlsHandshake {
  protocol: string | null;
  cipher: string | null;
  certificate: CertificateFacts | null;
  /** AUTH TLS refused, or the handshake failed. */
  failure?: string;
  /** PBSZ 0 / PROT P refused: data connections stay in clear text. */
  protRefused?: string;
}

export interface OpenedSession {
  control: ControlObservation;
  tls: TlsHandshake | null;
  /** Logged in and ready; null when a step failed. */
  session: DoctorSession | null;
}

/** Room for the doctor's own step timeouts to fire first (the library's read timeout closes the connection). */
const LIBRARY_TIMEOUT_FACTOR = 4;

async function resolve(plan: SessionPlan, control: ControlObservation): Promise<boolean> {
  const started = Date.now();
  const found = await within(lookup(plan.host, { all: true }), plan.stepMs).catch((error: Error) => error);
  if (found === TIMED_OUT || found instanceof Error) {
    control.failure = { stage: 'dns', message: found === TIMED_OUT ? `resolving ${plan.host} timed out` : `cannot resolve ${plan.host}: ${(found as NodeJS.ErrnoException).code ?? found.message}` };
    return false;
  }
  control.dnsMs = Date.now() - started;
  control.addresses = found.map((entry) => entry.address);
  control.address = control.addresses[0] ?? '';
  return true;
}

/** Tries each resolved address in turn (localhost may be ::1 first while the server listens on 127.0.0.1). */
async function connect(plan: SessionPlan, control: ControlObservation): Promise<ControlConnection | null> {
  for (const address of control.addresses) {
    const started = Date.now();
    const abort = new AbortController();
    const opening = ControlConnection.open({ host: address, port: plan.port, timeoutMs: plan.stepMs * LIBRARY_TIMEOUT_FACTOR + 5000, trace: plan.trace, signal: abort.signal });
    const opened = await within(opening, plan.stepMs).catch((error: Error) => error);
    if (opened === TIMED_OUT || opened instanceof Error) {
      abort.abort();
      const cause = opened instanceof Error ? ((opened.cause as NodeJS.ErrnoException | undefined)?.code ?? opened.message) : `timed out after ${plan.stepMs / 1000} s`;
      control.failure ??= { stage: 'connect', message: `cannot connect to ${address}:${plan.port}: ${cause}` };
      continue;
    }
    delete control.failure;
    control.address = address;
    control.connectMs = Date.now() - started;
    control.localAddress = canonicalAddress(opened.localAddress);
    return opened;
  }
  return null;
}

async function startTls(session: DoctorSession, plan: SessionPlan): Promise<TlsHandshake> {
  const upgraded = await within(session.control.upgrade({ servername: plan.host, rejectUnauthorized: false, ca: trustAnchors(plan.ca) }), plan.stepMs).catch(
    (error: Error) => error,
  );
  if (upgraded === TIMED_OUT || upgraded instanceof Error) {
    return { protocol: null, cipher: null, certificate: null, failure: upgraded === TIMED_OUT ? 'the TLS handshake timed out' : upgraded.message };
  }
  const socket = session.control.socket as TLSSocket;
  return { ...tlsParameters(socket), certificate: describeCertificate(socket, plan.host) };
}

async function login(session: DoctorSession, plan: SessionPlan, control: ControlObservation): Promise<boolean> {
  let reply = await session.send(`USER ${plan.user}`);
  if (reply.code === 331 || reply.code === 332) reply = await session.send(`PASS ${plan.password}`);
  control.loginReply = replyOf(reply);
  if (reply.code === 230 || reply.code === 202) return true;
  control.failure = { stage: 'login', message: `login as ${plan.user} refused: ${showReply(control.loginReply)}` };
  return false;
}

function featureLines(lines: string[]): string[] {
  return lines.slice(1, -1).map((line) => line.trim()).filter(Boolean);
}

export async function openSession(plan: SessionPlan): Promise<OpenedSession> {
  const control: ControlObservation = {
    host: plan.host,
    port: plan.port,
    address: '',
    addresses: [],
    localAddress: '',
    dnsMs: null,
    connectMs: null,
    greeting: '',
    features: [],
    user: plan.user,
    system: null,
  };
  const result: OpenedSession = { control, tls: null, session: null };
  if (!(await resolve(plan, control))) return result;
  const connection = await connect(plan, control);
  if (!connection) return result;
  const ca = trustAnchors(plan.ca);
  const session = new DoctorSession(connection, plan.stepMs, plan.tls === 'none' ? null : { servername: plan.host, ca });
  try {
    if (plan.tls === 'implicit') {
      result.tls = await startTls(session, plan);
      if (result.tls.failure) {
        control.failure = { stage: 'tls', message: result.tls.failure };
        session.close();
        return result;
      }
    }
    const greeting = await session.nextReply();
    control.greeting = greeting ? greeting.message.split('\n').join(' ') : '';
    if (!greeting || greeting.code !== 220) {
      control.failure = { stage: 'greeting', message: greeting ? `the server greeted with ${greeting.code} ${control.greeting}` : `no greeting within ${plan.stepMs / 1000} s` };
      session.close();
      return result;
    }
    if (plan.tls === 'explicit') {
      const auth = await session.send('AUTH TLS');
      result.tls = auth.code === 234 ? await startTls(session, plan) : { protocol: null, cipher: null, certificate: null, failure: `AUTH TLS refused: ${showReply(replyOf(auth))}` };
      if (result.tls.failure) {
        control.failure = { stage: 'tls', message: result.tls.failure };
        session.close();
        return result;
      }
    }
    const feat = await session.send('FEAT');
    if (feat.code === 211) control.features = featureLines(feat.lines);
    if (!(await login(session, plan, control))) {
      await session.quit();
      return result;
    }
    if (plan.tls !== 'none') {
      const pbsz = await session.send('PBSZ 0');
      const prot = pbsz.code < 300 ? await session.send('PROT P') : pbsz;
      if (prot.code < 300) session.protectedData = true;
      else result.tls!.protRefused = `PROT P refused: ${showReply(replyOf(prot))}`;
    }
    const syst = await session.send('SYST');
    if (syst.code === 215) control.system = syst.message.trim();
    result.session = session;
    return result;
  } catch (error) {
    control.failure ??= { stage: 'dialogue', message: (error as Error).message };
    session.close();
    return result;
  }
}
