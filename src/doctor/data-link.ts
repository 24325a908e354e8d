/**
 * The doctor's data connections: a TCP connect whose failure is named the way a person
 * debugging a firewall needs it (refused, timed out, unreachable), and one read-only
 * LIST through a data connection, TLS-wrapped under PROT P, reporting whether the TLS
 * session was resumed. Every step is bounded by the session's step timeout.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { DoctorSession, TIMED_OUT, replyOf, within } from './session.js';
import type { ConnectOutcome, TransferOutcome } from './types.js';

/** Most listing bytes read; the rest is drained unread (the probe only needs to see data flow). */
const LISTING_LIMIT = 1024 * 1024;

function connectFailure(error: NodeJS.ErrnoException): Extract<ConnectOutcome, { ok: false }>['failure'] {
  switch (error.code) {
    case 'ECONNREFUSED':
    case 'ECONNRESET':
      return 'refused';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'unreachable';
    default:
      return 'error';
  }
}

/** Connects to host:port within `ms`; the socket is paused so nothing is lost before TLS takes it. */
export function openDataConnection(host: string, port: number, ms: number): Promise<{ outcome: ConnectOutcome; socket?: Socket }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connectTcp({ host, port });
    socket.pause();
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ outcome: { ok: false, failure: 'timeout', message: `connecting to ${host}:${port} timed out after ${ms / 1000} s` } });
    }, ms);
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ outcome: { ok: false, failure: connectFailure(error), message: `connecting to ${host}:${port}: ${error.code ?? error.message}` } });
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => undefined); // the transfer reports what goes wrong
      resolve({ outcome: { ok: true, ms: Date.now() - started }, socket });
    });
  });
}

/** TLS over a data connection, resuming the control connection's session; verification is the control connection's business. */
function wrapTls(socket: Socket, session: DoctorSession): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const servername = session.tls?.servername;
    const secure = connectTls(
      {
        socket,
        session: session.control.tlsSession,
        servername: servername && !/^[\d.:]+$/.test(servername) ? servername : undefined,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      },
      () => {
        secure.off('error', reject);
        secure.on('error', () => undefined);
        resolve(secure);
      },
    );
    secure.once('error', reject);
  });
}

/** Reads the listing to its end (or the limit); resolves the byte count, rejects on a reset. */
function readAll(socket: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > LISTING_LIMIT) socket.destroy();
    });
    socket.once('end', () => resolve(bytes));
    socket.once('close', () => resolve(bytes));
    socket.once('error', reject);
    socket.resume();
  });
}

/**
 * LIST of the login directory through the data connection `connection` yields (already
 * open for passive; the server's incoming one for active). Replies are awaited in the
 * order both good servers (150, data, 226) and failing ones (425 alone, or 150 then 425)
 * send them. A step that times out leaves the session resynchronised (or closed).
 */
export async function listThrough(session: DoctorSession, connection: () => Promise<Socket | null>): Promise<TransferOutcome> {
  const result: TransferOutcome = { ok: false, connected: false, bytes: 0, tlsResumed: null };
  let socket: Socket | null = null;
  const failAfterReply = async (stage: TransferOutcome['stage'], message: string): Promise<TransferOutcome> => {
    // The server's own account (425, 426, 522) usually follows a failed data connection.
    const reply = await session.nextReply().catch(() => null);
    if (reply) result.reply = replyOf(reply);
    if (!reply || reply.code < 400) await session.resync();
    return { ...result, stage, message };
  };
  try {
    session.write('LIST');
    const first = await session.nextReply();
    if (first === null) {
      await session.resync();
      return { ...result, stage: 'reply', message: `no reply to LIST within ${session.stepMs / 1000} s` };
    }
    result.reply = replyOf(first);
    if (first.code >= 400) return { ...result, stage: first.code === 425 ? 'connect' : 'reply', message: `LIST: ${first.code} ${result.reply.text}` };
    // The connection, or the server's word that it will not come (150 then 425).
    const race = Promise.race([connection().then((opened) => ({ opened })), session.upcoming().then((reply) => ({ reply }))]);
    const arrived = await within(race, session.stepMs);
    if (arrived !== TIMED_OUT && 'reply' in arrived && arrived.reply.code >= 400) {
      await session.nextReply(); // take it: it is the answer to LIST
      result.reply = replyOf(arrived.reply);
      return { ...result, stage: 'connect', message: `LIST: ${arrived.reply.code} ${result.reply.text}` };
    }
    // A quick server's 226 can overtake the connection event of an empty listing: wait for it still.
    const opened = arrived === TIMED_OUT ? null : 'opened' in arrived ? arrived.opened : await within(connection(), session.stepMs);
    if (opened === null || opened === TIMED_OUT) return failAfterReply('connect', `no data connection within ${session.stepMs / 1000} s`);
    socket = opened;
    result.connected = true;
    if (session.protectedData) {
      const secure = await within(wrapTls(socket, session), session.stepMs).catch((error: Error) => error);
      if (secure === TIMED_OUT || secure instanceof Error) {
        socket.destroy();
        return failAfterReply('tls', secure === TIMED_OUT ? 'the data connection TLS handshake timed out' : `data connection TLS: ${secure.message}`);
      }
      result.tlsResumed = secure.isSessionReused();
      socket = secure;
    }
    const bytes = await within(readAll(socket), session.stepMs).catch((error: Error) => error);
    if (bytes === TIMED_OUT || bytes instanceof Error) {
      socket.destroy();
      return failAfterReply('data', bytes === TIMED_OUT ? 'the listing did not end in time' : `reading the listing: ${bytes.message}`);
    }
    result.bytes = bytes;
    const final = first.code < 200 ? await session.nextReply() : first;
    if (final === null) {
      await session.resync();
      return { ...result, stage: 'reply', message: `no final reply to LIST within ${session.stepMs / 1000} s` };
    }
    result.reply = replyOf(final);
    if (final.code !== 226 && final.code !== 250) return { ...result, stage: 'reply', message: `LIST: ${final.code} ${result.reply.text}` };
    return { ...result, ok: true };
  } catch (error) {
    session.close();
    return { ...result, stage: 'reply', message: (error as Error).message };
  } finally {
    socket?.destroy();
  }
}
