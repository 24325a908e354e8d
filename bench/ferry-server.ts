/** Starts Ferry as its own process for the benchmark (so its CPU and memory are its own). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitForReady } from '../test/helpers/ferry-ready.js';
import { killOnExit, stopChild } from '../test/helpers/run-process.js';
import type { BenchServer, ServerSetup } from './types.js';

const FERRY = resolve('bin/ferry.js');
/** FERRY_BENCH_WORKERS=2 (or "auto"): Ferry's workers key, to compare one process with several. */
const WORKERS = process.env.FERRY_BENCH_WORKERS ?? '1';

export async function startFerry(setup: ServerSetup): Promise<BenchServer> {
  const users = join(setup.workDir, 'ferry-users.toml');
  const add = spawnSync(process.execPath, [FERRY, 'user', 'add', setup.user, '--users', users, '--home', setup.root], { input: setup.password + '\n', encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`ferry user add failed: ${add.stderr}`);
  const config = join(setup.workDir, 'ferry.toml');
  writeFileSync(
    config,
    [
      'host = "127.0.0.1"',
      'port = 0',
      `workers = ${/^\d+$/.test(WORKERS) ? WORKERS : JSON.stringify(WORKERS)}`,
      `root = "${setup.root}"`,
      `users_file = "${users}"`,
      'max_login_failures = 100',
      '[passive]',
      'ports = "0"',
      '[active]',
      'connect_from_port_20 = false',
      // The load drivers open thousands of connections a second from 127.0.0.1; the
      // per-address rate limit (a policy, not a cost) would refuse them.
      '[limits]',
      'connection_rate = 0',
      // Nor may the defender's cap on logins in flight per address (its threshold) refuse
      // the driver's parallel logins: the peers have no such cap. Loopback is never counted.
      '[defender]',
      'allow = ["127.0.0.1"]',
      '[log]',
      'level = "warn"',
      '[tls]',
      `cert = "${setup.cert}"`,
      `key = "${setup.key}"`,
      'mode = "optional"',
      'implicit = false',
      '',
    ].join('\n'),
  );
  // A raised descriptor limit so 10,000 sessions fit; exec keeps the PID ours.
  // FERRY_BENCH_NODE_ARGS passes Node options to the server only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = process.env.FERRY_BENCH_NODE_ARGS ?? '';
  const child: ChildProcess = spawn('bash', ['-c', `ulimit -n ${setup.maxFiles}; exec "${process.execPath}" ${nodeArgs} "${FERRY}" serve --config "${config}"`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  killOnExit(child);
  let port: number;
  try {
    port = await waitForReady(child).port;
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return {
    name: 'ferry',
    port,
    pid: child.pid!,
    user: setup.user,
    password: setup.password,
    stop: () => stopChild(child),
  };
}
