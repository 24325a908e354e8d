/**
 * A real HAProxy from Debian in TCP mode in front of Ferry nodes, sending PROXY v2 on the
 * control port (round-robin over the nodes) and on each node's passive range (forwarded to
 * the same port on that node), as the multi-node recipe in the README does. Started as a child (foreground, -db), stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectSocket } from '../integration/support.js';
import { findBinary, killOnExit, stopChild } from './run-process.js';
import { waitFor } from './timing.js';

export const HAPROXY = findBinary('haproxy');

export interface HaproxyFrontend {
  /** Address HAProxy listens on (the "public" side). */
  address: string;
  port: number;
  stop(): Promise<void>;
}

/** One Ferry node behind HAProxy: its control port and its own passive range (forwarded as is). */
export interface HaproxyNode {
  host: string;
  port: number;
  passive: { min: number; max: number };
}

export async function startHaproxy(options: {
  dir: string;
  /** The public side: the control port and every node's passive range, on this address. */
  address: string;
  port: number;
  /** The Ferry nodes behind it: control connections go round-robin, passive ones to their node. */
  nodes: readonly HaproxyNode[];
}): Promise<HaproxyFrontend> {
  const config = join(options.dir, 'haproxy.cfg');
  const lines = [
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
    '  balance roundrobin',
    ...options.nodes.map((node, index) => `  server node${index} ${node.host}:${node.port} send-proxy-v2`),
  ];
  options.nodes.forEach((node, index) => {
    lines.push(
      `frontend ftp_passive_${index}`,
      `  bind ${options.address}:${node.passive.min}-${node.passive.max}`,
      `  default_backend ferry_passive_${index}`,
      `backend ferry_passive_${index}`,
      // No port: the connection goes to the port the client connected to.
      `  server node${index} ${node.host} send-proxy-v2`,
    );
  });
  writeFileSync(config, [...lines, ''].join('\n'));
  const child: ChildProcess = spawn(HAPROXY!, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const listening = await waitFor(async () => {
    if (child.exitCode !== null) return true;
    // A passive frontend: a probe there reaches no session (no control connection is spent on it).
    return connectSocket(options.address, options.nodes[0]!.passive.min).then(
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
