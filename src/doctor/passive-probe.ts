/**
 * PASV and EPSV probes: ask for a passive port, connect where the server says, and when
 * that fails at an address other than the control connection's, try the control
 * address too, which tells a NAT that advertises the wrong address apart from a
 * firewall that blocks the port. A connection that opens carries one LIST. Then a few
 * more PASV/EPSV replies sample the server's passive port range.
 */
import { canonicalAddress, parseEpsvReply, parsePasvReply, sameAddress } from '../protocol/address.js';
import { listThrough, openDataConnection } from './data-link.js';
import { replyOf, type DoctorSession } from './session.js';
import type { PassiveModeName, PassiveObservation } from './types.js';

/** One PASV/EPSV: where to connect, or the refusal. */
async function askForPort(session: DoctorSession, mode: PassiveModeName, controlAddress: string) {
  const reply = await session.send(mode.toUpperCase());
  const expected = mode === 'pasv' ? 227 : 229;
  if (reply.code !== expected) return { refusal: replyOf(reply) };
  if (mode === 'pasv') {
    const target = parsePasvReply(reply.message);
    return target ? { target } : { refusal: replyOf(reply) };
  }
  const port = parseEpsvReply(reply.message);
  return port === null ? { refusal: replyOf(reply) } : { target: { host: controlAddress, port } };
}

export async function probePassive(session: DoctorSession, mode: PassiveModeName, samples: number): Promise<PassiveObservation> {
  const controlAddress = canonicalAddress(session.control.remoteAddress);
  const observation: PassiveObservation = { mode, controlAddress, ports: [], protectedData: session.protectedData };
  const first = await askForPort(session, mode, controlAddress);
  if (!first.target) return { ...observation, refusal: first.refusal };
  observation.advertised = first.target;
  observation.ports.push(first.target.port);
  let link = await openDataConnection(first.target.host, first.target.port, session.stepMs);
  observation.direct = link.outcome;
  if (!link.socket && !sameAddress(first.target.host, controlAddress)) {
    // A fresh port: some servers close a passive listener after a failed attempt.
    const retry = await askForPort(session, mode, controlAddress);
    if (retry.target) {
      observation.ports.push(retry.target.port);
      link = await openDataConnection(controlAddress, retry.target.port, session.stepMs);
      observation.viaControl = link.outcome;
    }
  }
  if (link.socket) {
    const socket = link.socket;
    observation.transfer = await listThrough(session, async () => socket);
  }
  while (observation.ports.length < samples && !session.closed) {
    const sample = await askForPort(session, mode, controlAddress).catch(() => null);
    if (!sample?.target) break;
    observation.ports.push(sample.target.port);
  }
  return observation;
}
