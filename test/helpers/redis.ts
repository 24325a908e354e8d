/** A throwaway redis-server from Debian on a free loopback port, nothing saved to disk, stopped by PID. */
import { spawn } from 'node:child_process';
import { connectSocket, findFreePortRange } from '../integration/support.js';
import { findBinary, killOnExit, stopChild } from './run-process.js';
import { waitFor } from './timing.js';

export const REDIS_SERVER = findBinary('redis-server');

export interface RedisServer {
  url: string;
  /** The redis-server process (SIGSTOP makes it a Redis that answers nothing). */
  pid: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const { min: port } = await findFreePortRange(1);
  const child = spawn(REDIS_SERVER!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
  killOnExit(child);
  const up = await waitFor(() => connectSocket('127.0.0.1', port).then((socket) => (socket.destroy(), true), () => false), 10_000);
  if (!up) {
    await stopChild(child);
    throw new Error(`redis-server did not start on port ${port}`);
  }
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopChild(child) };
}
