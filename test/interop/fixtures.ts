/**
 * Shared pieces of the interoperability tests (the generic ones live in test/helpers/):
 * file names with spaces and CJK characters, a Ferry server plus a client-side scratch
 * folder per test, URLs, and parsing `ls -l` listings.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { clientEnv } from '../helpers/run-process.js';
import { withTestServer, type TestServer } from '../helpers/server.js';

export const SPACED_NAME = 'name with spaces.txt';
export const CJK_NAME = '中文文件名.txt';

/** True when this host can listen on the IPv6 loopback address. */
export async function ipv6LoopbackAvailable(): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(0, '::1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

export interface InteropContext {
  server: TestServer;
  /** Scratch folder on the client side (also the clients' HOME). */
  local: string;
  env: NodeJS.ProcessEnv;
}

/** Starts a server, runs `fn` with the server's scratch folder as the client side, then removes both. */
export function withServer(overrides: Record<string, unknown>, fn: (context: InteropContext) => Promise<void>): Promise<void> {
  return withTestServer(overrides, (server) => fn({ server, local: server.scratch, env: clientEnv(server.scratch) }));
}

/** "ftp://host:port/a/b" with each path segment percent-encoded (UTF-8). */
export function ftpUrl(server: { host: string; port: number }, path = '/'): string {
  const host = server.host.includes(':') ? `[${server.host}]` : server.host;
  const encoded = path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
  return `ftp://${host}:${server.port}${encoded.startsWith('/') ? '' : '/'}${encoded}`;
}

export interface ListLine {
  type: 'file' | 'directory';
  size: number;
  name: string;
}

/** Parses `ls -l` style LIST lines ("-rw-r--r-- 1 ftp ftp 12 Nov 21 09:02 a name"). */
export function parseListLines(text: string): Map<string, ListLine> {
  const entries = new Map<string, ListLine>();
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const match = /^([-d])[-rwxsStT]{9}\s+\d+\s+\S+\s+\S+\s+(\d+)\s+\w{3}\s+\d{1,2}\s+(?:\d{1,2}:\d{2}|\d{4})\s(.+)$/.exec(line);
    if (!match) throw new Error(`unparseable LIST line: ${JSON.stringify(line)}`);
    entries.set(match[3]!, { type: match[1] === 'd' ? 'directory' : 'file', size: Number(match[2]), name: match[3]! });
  }
  return entries;
}
