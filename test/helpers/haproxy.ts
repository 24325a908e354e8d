/**
 * A real HAProxy from Debian in TCP mode in front of a Ferry server, sending PROXY v2 on
 * the control port and on every passive port (forwarded to the same port on the server),
 * as the multi-node recipe does. Started as a child (foreground, -db), stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectSocket } from '../integration/support.js';
import { findBinary, stopChild } from './run-process.js';
import { waitFor } from './timing.js';

export const HAPROXY = findBinary('haproxy');

export interface HaproxyFrontend {
  /** Address HAProxy listens on (the "public" side). */
  address: string;
  port: number;
  stop(): Promise<void>;
}

export async function startHaproxy(options: {
  dir: string;
  /** The public side: control port and passive range, on this address. */
  address: string;
  port: number;
  passive: { min: number; max: number };
  /** The Ferry server behind it. */
  backend: { host: string; port: number };
}): Promise<HaproxyFrontend> {
  const config = join(options.dir, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 256',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 60s',
      '  timeout server 60s',
      'frontend ftp_control',
      `  bind ${options.address}:${options.port}`,
      '  default_backend ferry_control',
      'backend ferry_control',
      `  server ferry ${options.backend.host}:${options.backend.port} send-proxy-v2`,
      'frontend ftp_passive',
      `  bind ${options.address}:${options.passive.min}-${options.passive.max}`,
      '  default_backend ferry_passive',
      'backend ferry_passive',
      // No port: the connection goes to the port the client connected to.
      `  server ferry ${options.backend.host} send-proxy-v2`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(HAPROXY!, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const listening = await waitFor(async () => {
    if (child.exitCode !== null) return true;
    return connectSocket(options.address, options.port).then(
      (socket) => (socket.destroy(), true),
      () => false,
    );
  }, 10_000);
  if (!listening || child.exitCode !== null) {
    await stopChild(child);
    throw new Error(`haproxy did not start: ${output}`);
  }
  return { address: options.address, port: options.port, stop: () => stopChild(child) };
}
