/**
 * A TCP address inside a private network namespace that leads to a TCP server outside it
 * (e.g. a Ceph gateway the test started on the host's loopback): Unix sockets in the file
 * system are not bound to a network namespace, so a listener in the namespace hands each
 * connection to a Unix socket, and a Unix listener here connects it on to the target.
 *
 * Run as a program (`node namespace-relay.js HOST PORT SOCKET`, inside the namespace) it
 * is the inner half: it listens on HOST:PORT, prints "listening", and pipes every
 * connection to SOCKET.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killOnExit, stopChild } from './run-process.js';

/** Joins two sockets both ways; either side ending or failing ends the other. */
function splice(a: Socket, b: Socket): void {
  a.pipe(b).on('error', () => a.destroy());
  b.pipe(a).on('error', () => b.destroy());
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}

function listen(server: Server, ...address: [number, string] | [string]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(...(address as [number, string]), () => resolve());
  });
}

export interface NamespaceRelay {
  stop(): Promise<void>;
}

/**
 * Makes `listenHost:listenPort` inside `namespace` lead to `target` (host:port here);
 * the Unix socket lives in `dir`.
 */
export async function relayIntoNamespace(namespace: string, listenHost: string, listenPort: number, target: { host: string; port: number }, dir: string): Promise<NamespaceRelay> {
  const socketPath = join(dir, `relay-${listenPort}.sock`);
  const open = new Set<Socket>();
  const outer = createServer((connection) => {
    open.add(connection);
    connection.on('close', () => open.delete(connection));
    splice(connection, createConnection(target.port, target.host));
  });
  await listen(outer, socketPath);
  const inner = spawn('ip', ['netns', 'exec', namespace, process.execPath, fileURLToPath(import.meta.url), listenHost, String(listenPort), socketPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(inner);
  let printed = '';
  inner.stderr!.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
  inner.stdout!.setEncoding('utf8');
  const ready = new Promise<void>((resolve, reject) => {
    inner.stdout!.on('data', (text: string) => text.includes('listening') && resolve());
    inner.once('exit', (code) => reject(new Error(`the relay in ${namespace} exited (${code}): ${printed}`)));
  });
  const stop = async () => {
    await stopChild(inner);
    for (const connection of open) connection.destroy();
    outer.close();
    await once(outer, 'close').catch(() => undefined);
  };
  try {
    await ready;
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [host, port, socketPath] = process.argv.slice(2) as [string, string, string];
  const server = createServer((connection) => splice(connection, createConnection(socketPath)));
  await listen(server, Number(port), host);
  process.stdout.write('listening\n');
  process.on('SIGTERM', () => process.exit(0));
}
