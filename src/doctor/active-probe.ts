/**
 * PORT and EPRT probes: listen on this machine's address of the control connection,
 * tell the server to connect there, and run one LIST. Only a connection from the
 * server's own address is taken (anyone else could inject data); the listener is closed
 * whatever happens.
 */
import { once } from 'node:events';
import { createServer, isIPv4, type AddressInfo, type Socket } from 'node:net';
import { canonicalAddress, encodeEprt, encodeHostPort, sameAddress } from '../protocol/address.js';
import { listThrough } from './data-link.js';
import { replyOf, type DoctorSession } from './session.js';
import type { ActiveModeName, ActiveObservation } from './types.js';

export async function probeActive(session: DoctorSession, mode: ActiveModeName): Promise<ActiveObservation> {
  const controlAddress = canonicalAddress(session.control.remoteAddress);
  const localAddress = canonicalAddress(session.control.localAddress);
  const observation: ActiveObservation = { mode, controlAddress, localAddress, command: mode.toUpperCase(), strangers: [], protectedData: session.protectedData };
  if (mode === 'port' && !isIPv4(localAddress)) return { ...observation, notTried: 'PORT cannot describe an IPv6 address (use EPRT)' };
  const listener = createServer({ pauseOnConnect: true });
  const late: Socket[] = [];
  try {
    listener.listen(0, localAddress);
    await once(listener, 'listening');
    const port = (listener.address() as AddressInfo).port;
    let accept!: (socket: Socket) => void;
    const accepted = new Promise<Socket>((resolve) => (accept = resolve));
    listener.on('connection', (socket: Socket) => {
      socket.on('error', () => undefined);
      if (!sameAddress(socket.remoteAddress ?? '', controlAddress)) {
        observation.strangers.push(`${socket.remoteAddress}:${socket.remotePort}`);
        socket.destroy();
        return;
      }
      late.push(socket);
      accept(socket);
    });
    observation.command = mode === 'port' ? `PORT ${encodeHostPort(localAddress, port)}` : `EPRT ${encodeEprt(localAddress, port)}`;
    const reply = await session.send(observation.command);
    observation.reply = replyOf(reply);
    if (reply.code !== 200) return observation;
    observation.transfer = await listThrough(session, () => accepted);
    return observation;
  } finally {
    listener.close();
    // A connection that came after the LIST gave up is closed too.
    for (const socket of late) socket.destroy();
  }
}
