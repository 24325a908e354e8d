/**
 * A tiny scripted FTP server (node:net) for client tests: each command goes to a handler
 * the test gives (or a default), so a test can make the server do what real servers
 * sometimes do: refuse EPSV, advertise another PASV address, lack FEAT or SIZE, send 150
 * only after the data, stay silent, or speak TLS after AUTH TLS. Everything it opens is
 * closed after the test file.
 */
import { after } from 'node:test';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { FtpClientOptions } from '../../src/client/client.js';
import { ALL_BYTES } from './data.js';
import { sleep, withTimeout } from './timing.js';

export interface Session {
  /** The control connection (the TLS socket after AUTH TLS). */
  socket: Socket;
  send(text: string): void;
  /** The passive data listener's next connection. */
  data(): Promise<Socket>;
  commands: string[];
}

export type Handler = (session: Session, arg: string) => void | Promise<void>;

export interface FakeOptions {
  /** Raw greeting text (CRLF added per line); default "220 fake ready"; null: no greeting. */
  greeting?: string[] | null;
  /** Host the PASV data listener binds to, and the one advertised in 227 (default both 127.0.0.1). */
  pasvListen?: string;
  pasvAdvertise?: string;
  /** With a key and certificate, AUTH TLS answers 234 and the control connection turns TLS. */
  tls?: { key: string; cert: string };
  handlers?: Record<string, Handler>;
}

const servers: Server[] = [];
const sockets = new Set<Socket>();

after(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** Keeps a socket a test opened itself, to be destroyed after the test file. */
export function track(socket: Socket): Socket {
  sockets.add(socket);
  socket.on('error', () => undefined);
  return socket;
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
    track(socket);
    let pasv: Server | null = null;
    let pending: Promise<Socket> | null = null;
    const session: Session = {
      socket,
      commands: [],
      send: (text) => {
        if (!session.socket.destroyed) session.socket.write(text + '\r\n');
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
          track(data);
          pasv!.close();
          resolve(data);
        }),
      );
      const port = await listenOn(pasv, options.pasvListen ?? '127.0.0.1');
      const h = (options.pasvAdvertise ?? options.pasvListen ?? '127.0.0.1').split('.').join(',');
      s.send(`227 Entering Passive Mode (${h},${port >> 8},${port & 255})`);
    };
    let chain = Promise.resolve();
    /** Reads command lines from the session's current socket and runs their handlers in order. */
    const readCommands = (s: Session) => {
      const input = track(s.socket);
      let buffer = '';
      input.setEncoding('utf8');
      input.on('data', (text: string) => {
        buffer += text;
        let end: number;
        while ((end = buffer.indexOf('\r\n')) !== -1) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          s.commands.push(line);
          const space = line.indexOf(' ');
          const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
          const arg = space === -1 ? '' : line.slice(space + 1);
          const handler = sessionHandlers[verb];
          chain = chain.then(async () => {
            if (handler) await handler(s, arg);
            else s.send(`502 ${verb} not implemented.`);
          });
          chain.catch(() => input.destroy());
        }
      });
    };
    const tlsHandlers: Record<string, Handler> = {};
    if (options.tls) {
      const { key, cert } = options.tls;
      tlsHandlers.AUTH = (s) => {
        s.send('234 AUTH TLS ok.');
        s.socket = new TLSSocket(s.socket, { isServer: true, key, cert });
        readCommands(s);
      };
      tlsHandlers.PBSZ = (s) => s.send('200 PBSZ=0');
      tlsHandlers.PROT = (s) => s.send('200 Protection level set.');
    }
    const sessionHandlers: Record<string, Handler> = { PASV: pasvHandler, ...tlsHandlers, ...handlers };
    readCommands(session);
    if (options.greeting !== null) for (const line of options.greeting ?? ['220 fake ready']) session.send(line);
  });
  const port = await listenOn(server, '127.0.0.1');
  return { port, sessions };
}

export function clientOptions(port: number, extra: Partial<FtpClientOptions> = {}): FtpClientOptions {
  return { host: '127.0.0.1', port, user: 'u', password: 'p', timeoutMs: 5000, ...extra };
}

/** Writes and half-closes; resolves once the bytes are handed to the kernel (the client has not read them yet). */
export function endData(data: Socket, bytes: Buffer | string): Promise<void> {
  return new Promise((resolve) => data.end(bytes, () => resolve()));
}

/** RETR that writes the whole file and closes the data connection before any 150. */
export const retrDataFirst: Handler = async (s) => {
  const data = await s.data();
  await endData(data, ALL_BYTES);
  await sleep(30);
  s.send('150 Opening data connection (sent after the data).');
  await sleep(30);
  s.send('226 Transfer complete.');
};

/** Where the client listens in active mode, from its last PORT. */
const portTargets = new WeakMap<Session, { host: string; port: number }>();

/** Active mode: PORT accepted, RETR connects back and sends ALL_BYTES. */
export const activeHandlers: Record<string, Handler> = {
  PORT: (s, arg) => {
    const parts = arg.split(',').map(Number);
    portTargets.set(s, { host: parts.slice(0, 4).join('.'), port: parts[4]! * 256 + parts[5]! });
    s.send('200 PORT ok.');
  },
  RETR: async (s) => {
    const target = portTargets.get(s)!;
    s.send('150 Connecting to you.');
    const data = track(connect(target.port, target.host));
    await once(data, 'connect');
    data.end(ALL_BYTES);
    await once(data, 'close');
    s.send('226 Sent.');
  },
};
