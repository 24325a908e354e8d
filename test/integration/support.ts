/**
 * Small helpers shared by the integration tests in this folder (the generic ones live in
 * test/helpers/): logins, free port ranges, raw data sockets, listing parsers.
 */
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { FtpConnection, type FtpReply } from '../helpers/ftp-connection.js';
import { PASSWORD, USER, type TestServer } from '../helpers/server.js';
import { parseEpsvReply, parsePasvReply } from '../../src/protocol/address.js';

/** Logs in as alice (or another user) on a test server. */
export function login(server: TestServer, user = USER, password = PASSWORD): Promise<FtpConnection> {
  return FtpConnection.login(server.host, server.port, user, password);
}

/** Every byte a socket receives until it closes (errors such as a reset just end it). */
export function readAll(socket: Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** Connects a raw TCP socket (optionally from a given local address). */
export async function connectSocket(host: string, port: number, localAddress?: string): Promise<Socket> {
  const socket = connect({ host, port, localAddress });
  const error = once(socket, 'error').then(([e]) => {
    throw e;
  });
  error.catch(() => undefined);
  await Promise.race([once(socket, 'connect'), error]);
  socket.on('error', () => undefined);
  return socket;
}

/** True when a TCP connection to host:port is refused (or otherwise fails). */
export async function connectionFails(host: string, port: number): Promise<boolean> {
  try {
    const socket = await connectSocket(host, port);
    socket.destroy();
    return false;
  } catch {
    return true;
  }
}

/** The data port in a 227 or 229 reply. */
export function passivePort(reply: FtpReply): number {
  if (reply.code === 227) {
    const parsed = parsePasvReply(reply.text);
    if (!parsed) throw new Error(`bad 227: ${reply.text}`);
    return parsed.port;
  }
  if (reply.code === 229) {
    const port = parseEpsvReply(reply.text);
    if (port === null) throw new Error(`bad 229: ${reply.text}`);
    return port;
  }
  throw new Error(`not a passive reply: ${reply.lines.join(' | ')}`);
}

function tryListen(host: string, port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

/**
 * A range of `count` consecutive ports that are free on `host` right now, below the
 * Linux ephemeral range so the OS does not hand them to other sockets meanwhile.
 */
export async function findFreePortRange(count: number, host: string | readonly string[] = '127.0.0.1'): Promise<{ min: number; max: number; spec: string }> {
  const hosts = typeof host === 'string' ? [host] : host;
  for (let attempt = 0; attempt < 50; attempt++) {
    const min = 20000 + Math.floor(Math.random() * (12000 - count));
    const held: Server[] = [];
    let ok = true;
    for (let port = min; port < min + count && ok; port++) {
      for (const address of hosts) {
        const server = await tryListen(address, port);
        if (!server) {
          ok = false;
          break;
        }
        held.push(server);
      }
    }
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
    if (ok) return { min, max: min + count - 1, spec: `${min}-${min + count - 1}` };
  }
  throw new Error(`no free range of ${count} ports found`);
}

/** Files in a folder whose name marks an unfinished upload. */
export function uploadTempFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('.ferry-upload-'));
}

/** Runs `worker` over `items` with at most `limit` running at once. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, worker: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await worker(items[index]!, index);
    }
  });
  await Promise.all(runners);
  return results;
}

/** Every byte value 0..255, `repeat` times: a binary-safety probe. */
export function allByteValues(repeat = 4): Buffer {
  const one = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) one[i] = i;
  return Buffer.concat(Array.from({ length: repeat }, () => one));
}

/** Reads replies until one has `code` (at most `max` replies); returns all read. */
export async function readUntil(ftp: FtpConnection, code: number, max = 200): Promise<FtpReply[]> {
  const seen: FtpReply[] = [];
  for (let i = 0; i < max; i++) {
    const reply = await ftp.read();
    seen.push(reply);
    if (reply.code === code) return seen;
  }
  throw new Error(`no ${code} reply within ${max} replies`);
}

export interface ListLine {
  type: 'file' | 'directory';
  mode: string;
  size: number;
  date: string;
  name: string;
}

const LIST_LINE = /^([-d])([-r][-w][-xsStT][-r][-w][-xsStT][-r][-w][-xtT])\s+\d+\s+\S+\s+\S+\s+(\d+)\s+([A-Z][a-z]{2}\s+\d{1,2}\s+(?:\d{2}:\d{2}|\d{4}))\s(.+)$/;

/** Parses `ls -l` style LIST output (CRLF lines); throws on a line that does not fit. */
export function parseList(data: Buffer | string): ListLine[] {
  const text = data.toString();
  if (text !== '' && !text.endsWith('\r\n')) throw new Error(`listing does not end with CRLF: ${JSON.stringify(text.slice(-20))}`);
  return text
    .split('\r\n')
    .filter((line) => line !== '')
    .map((line) => {
      const match = LIST_LINE.exec(line);
      if (!match) throw new Error(`not an ls -l line: ${JSON.stringify(line)}`);
      return { type: match[1] === 'd' ? 'directory' : 'file', mode: match[2]!, size: Number(match[3]), date: match[4]!, name: match[5]! };
    });
}

/** Lines of a CRLF text listing (NLST). */
export function lines(data: Buffer | string): string[] {
  return data
    .toString()
    .split('\r\n')
    .filter((line) => line !== '');
}

/** Parses one MLSx line "fact=value;fact=value; name" into its facts and name. */
export function parseMlsx(line: string): { facts: Record<string, string>; name: string } {
  const space = line.indexOf(' ');
  if (space === -1) throw new Error(`not an MLSx line: ${JSON.stringify(line)}`);
  const facts: Record<string, string> = {};
  for (const fact of line.slice(0, space).split(';')) {
    if (fact === '') continue;
    const eq = fact.indexOf('=');
    if (eq === -1) throw new Error(`bad fact ${JSON.stringify(fact)} in ${JSON.stringify(line)}`);
    facts[fact.slice(0, eq).toLowerCase()] = fact.slice(eq + 1);
  }
  return { facts, name: line.slice(space + 1) };
}

/** RFC 3659 time-val (UTC, whole seconds) computed independently of the server. */
export function timeVal(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
