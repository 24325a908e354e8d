/**
 * What a password guesser on one address gets, and what a legitimate user on another
 * address feels meanwhile (the defender.* keys). Starts `ferry serve` as its own
 * process, runs 20 guessing connections from 127.0.0.1 for 10 s (reconnecting when
 * closed or refused) and logs in as the real user from 127.0.0.2 every 500 ms.
 *
 *   node dist/bench/brute-force.js [--seconds 10] [--parallel 20] [--config-line 'KEY = VALUE' ...]
 *
 * Bounded: the run stops at its deadline; every reply wait has a timeout.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitForReady } from '../test/helpers/ferry-ready.js';
import { FtpConnection } from '../test/helpers/ftp-connection.js';
import { killOnExit, stopChild } from '../test/helpers/run-process.js';
import { sleep } from '../test/helpers/timing.js';

const FERRY = resolve('bin/ferry.js');
const USER = 'alice';
const PASSWORD = 'correct horse';

interface Options {
  seconds: number;
  parallel: number;
  configLines: string[];
}

function parseOptions(argv: string[]): Options {
  const options: Options = { seconds: 10, parallel: 20, configLines: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--seconds') options.seconds = Math.min(60, Number(argv[++i]));
    else if (arg === '--parallel') options.parallel = Math.min(200, Number(argv[++i]));
    else if (arg === '--config-line') options.configLines.push(argv[++i] ?? '');
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

interface Tally {
  /** PASS answered 530: one password really tried. */
  guesses: number;
  /** 421 replies (refused at accept or at PASS, or closed for too many failures). */
  refusals: number;
  connections: number;
}

async function guesser(port: number, deadline: number, tally: Tally): Promise<void> {
  let attempt = 0;
  while (Date.now() < deadline) {
    let ftp: FtpConnection | null = null;
    try {
      ftp = await FtpConnection.connect('127.0.0.1', port);
      tally.connections++;
      if (ftp.greeting.code === 421) {
        tally.refusals++;
        continue;
      }
      while (Date.now() < deadline) {
        await ftp.send(`USER ${USER}`);
        const reply = await ftp.send(`PASS guess-${attempt++}`);
        if (reply.code === 530) tally.guesses++;
        else if (reply.code === 421) {
          tally.refusals++;
          break;
        }
      }
    } catch {
      // closed or reset: reconnect
    } finally {
      ftp?.socket.destroy();
    }
  }
}

async function legitimateLogins(port: number, deadline: number): Promise<number[]> {
  const latencies: number[] = [];
  while (Date.now() < deadline) {
    const started = performance.now();
    try {
      const ftp = await FtpConnection.login('127.0.0.1', port, USER, PASSWORD, { localAddress: '127.0.0.2' });
      latencies.push(performance.now() - started);
      ftp.close();
    } catch {
      latencies.push(Number.POSITIVE_INFINITY);
    }
    await sleep(500);
  }
  return latencies;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'ferry-brute-'));
  let child: ChildProcess | undefined;
  try {
    const users = join(dir, 'users.toml');
    const add = spawnSync(process.execPath, [FERRY, 'user', 'add', USER, '--users', users, '--home', dir], { input: PASSWORD + '\n', encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`ferry user add failed: ${add.stderr}`);
    const config = join(dir, 'ferry.toml');
    writeFileSync(config, ['host = "127.0.0.1"', 'port = 0', `root = "${dir}"`, `users_file = "${users}"`, ...options.configLines, '[log]', 'level = "silent"', ''].join('\n'));
    child = spawn(process.execPath, [FERRY, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
    killOnExit(child);
    const port = await waitForReady(child).port;
    const tally: Tally = { guesses: 0, refusals: 0, connections: 0 };
    const deadline = Date.now() + options.seconds * 1000;
    const [latencies] = await Promise.all([
      legitimateLogins(port, deadline),
      Promise.all(Array.from({ length: options.parallel }, () => guesser(port, deadline, tally))),
    ]);
    const ok = latencies.filter(Number.isFinite).sort((a, b) => a - b);
    const quantile = (q: number) => (ok.length ? ok[Math.min(ok.length - 1, Math.floor(q * ok.length))]!.toFixed(0) : 'n/a');
    console.log(
      JSON.stringify({
        seconds: options.seconds,
        parallel: options.parallel,
        passwordsTried: tally.guesses,
        passwordsPerSecond: Number((tally.guesses / options.seconds).toFixed(1)),
        refusals421: tally.refusals,
        connections: tally.connections,
        legitimateLogins: latencies.length,
        legitimateFailed: latencies.length - ok.length,
        legitimateLatencyMs: { median: quantile(0.5), p90: quantile(0.9), max: ok.length ? ok.at(-1)!.toFixed(0) : 'n/a' },
      }),
    );
  } finally {
    if (child) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
