/**
 * A tiny scripted FTP server (node:net) for the client tests: every command goes to a
 * handler (defaults for login, FEAT, TYPE, PWD, NOOP and QUIT; EPSV and EPRT refused so
 * the client falls back to PASV, whose listener the fake opens itself), so a test can do
 * what real servers sometimes do: advertise odd addresses, send replies out of order,
 * stay silent, or drop the connection halfway through a transfer.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { withTimeout } from './timing.js';

export interface Session {
  socket: Socket;
  send(text: string): void;
  /** The passive data listener's next connection. */
  data(): Promise<Socket>;
  commands: string[];
}

export type Handler = (session: Session, arg: string) => void | Promise<void>;

export interface FakeOptions {
  /** Raw greeting text (CRLF added per line); default "220 fake ready". */
  greeting?: string[] | null;
  /** Host the PASV data listener binds to, and the one advertised in 227 (default both 127.0.0.1). */
  pasvListen?: string;
  pasvAdvertise?: string;
  /** EPSV: refused with 500 unless true. */
  epsv?: boolean;
  handlers?: Record<string, Handler>;
}

const servers: Server[] = [];
const sockets = new Set<Socket>();

/** Remembers a socket a handler opened itself, so stopFakeServers ends it. */
export function trackSocket(socket: Socket): void {
  sockets.add(socket);
}

/** Ends every fake server and connection this test file made (call it in `after`). */
export async function stopFakeServers(): Promise<void> {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
}

function listenOn(server: Server, host: string): Promise<number> {
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Starts the fake server; resolves with its port and the sessions it has seen. */
export async function fakeServer(options: FakeOptions = {}): Promise<{ port: number; sessions: Session[] }> {
  const sessions: Session[] = [];
  const defaults: Record<string, Handler> = {
    USER: (s) => s.send('331 Password please.'),
    PASS: (s) => s.send('230 Logged in.'),
    FEAT: (s) => s.send('211-Features:\r\n SIZE\r\n REST STREAM\r\n211 End'),
    TYPE: (s) => s.send('200 Binary.'),
    PWD: (s) => s.send('257 "/" is the current directory'),
    NOOP: (s) => s.send('200 NOOP ok.'),
    QUIT: (s) => {
      s.send('221 Bye.');
      s.socket.end();
    },
    EPSV: (s) => s.send('500 EPSV not understood.'),
    EPRT: (s) => s.send('500 EPRT not understood.'),
  };
  const handlers = { ...defaults, ...options.handlers };
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let pasv: Server | null = null;
    let pending: Promise<Socket> | null = null;
    const session: Session = {
      socket,
      commands: [],
      send: (text) => {
        if (!socket.destroyed) socket.write(text + '\r\n');
      },
      data: () => {
        if (!pending) throw new Error('no PASV before the data command');
        return withTimeout(pending, 5000, 'the client opening the data connection');
      },
    };
    sessions.push(session);
    const pasvHandler: Handler = async (s) => {
      pasv = createServer();
      pending = new Promise((resolve) =>
        pasv!.once('connection', (data: Socket) => {
          sockets.add(data);
          data.on('error', () => undefined);
          pasv!.close();
          resolve(data);
        }),
      );
      const port = await listenOn(pasv, options.pasvListen ?? '127.0.0.1');
      const h = (options.pasvAdvertise ?? options.pasvListen ?? '127.0.0.1').split('.').join(',');
      s.send(`227 Entering Passive Mode (${h},${port >> 8},${port & 255})`);
    };
    const sessionHandlers: Record<string, Handler> = { PASV: pasvHandler, ...handlers };
    let buffer = '';
    let chain = Promise.resolve();
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      buffer += text;
      let end: number;
      while ((end = buffer.indexOf('\r\n')) !== -1) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        session.commands.push(line);
        const space = line.indexOf(' ');
        const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
        const arg = space === -1 ? '' : line.slice(space + 1);
        const handler = sessionHandlers[verb];
        chain = chain.then(async () => {
          if (handler) await handler(session, arg);
          else session.send(`502 ${verb} not implemented.`);
        });
        chain.catch(() => socket.destroy());
      }
    });
    if (options.greeting !== null) for (const line of options.greeting ?? ['220 fake ready']) session.send(line);
  });
  const port = await listenOn(server, '127.0.0.1');
  return { port, sessions };
}
