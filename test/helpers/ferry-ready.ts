/** Waiting for a `ferry serve` child process to print its ready line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FERRY_BIN } from '../client/support.js';
import { killOnExit, stopChild } from './run-process.js';

/**
 * Resolves with the control port from "Ferry FTP server ready on HOST:PORT" on the
 * child's stdout (HOST as listened on: 127.0.0.1, 0.0.0.0, [::], ...); rejects if the
 * process exits first or prints nothing in time. `output()` returns everything printed so far.
 */
export function waitForReady(child: ChildProcess, timeoutMs = 15_000): { port: Promise<number>; output: () => string } {
  let out = '';
  child.stdout!.setEncoding('utf8');
  const port = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ferry printed no ready line: ${out}`)), timeoutMs);
    child.stdout!.on('data', (text: string) => {
      out += text;
      const match = /ready on (?:\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ferry exited with ${code}: ${out}`));
    });
  });
  return { port, output: () => out };
}

/**
 * `ferry serve --config FILE` with `lines` as the config file, written into `dir` (its
 * relative paths are relative to `dir`), once it is ready; stop the child with stopChild
 * (it is ended with the test process too, and stopped here if it never gets ready).
 * `log()` is what it has written to stderr so far (its log lines).
 */
export async function serveWithConfig(dir: string, lines: readonly string[]): Promise<{ child: ChildProcess; port: number; output: () => string; log: () => string }> {
  const config = join(dir, 'ferry.toml');
  writeFileSync(config, lines.join('\n'));
  const child = spawn(process.execPath, [FERRY_BIN, 'serve', '--config', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (log += text));
  // Ended with the test process, whatever happens; and at once when it never gets ready.
  killOnExit(child);
  const ready = waitForReady(child);
  const port = await ready.port.catch(async (error: unknown) => {
    await stopChild(child);
    throw error;
  });
  return { child, port, output: ready.output, log: () => log };
}

/** `dir/NAME/root` for each site name, holding one file `file(site)` whose content is the site's name. */
export function siteRoots(dir: string, sites: readonly string[], file: (site: string) => string): void {
  for (const site of sites) {
    mkdirSync(join(dir, site, 'root'), { recursive: true });
    writeFileSync(join(dir, site, 'root', file(site)), site);
  }
}

/**
 * Config lines for two sites on one port: the default site served from `dir/a` and
 * [sites.b] (named by `bHosts`) from `dir/b`, each with its root and users file there;
 * `a`/`b` add keys to each site, `aTables`/`bTables` add tables after them.
 */
export function twoSiteConfig(options: { bHosts: readonly string[]; a?: readonly string[]; aTables?: readonly string[]; b?: readonly string[]; bTables?: readonly string[] }): string[] {
  return [
    'host = "127.0.0.1"',
    'port = 0',
    'root = "a/root"',
    'users_file = "a/users.toml"',
    ...(options.a ?? []),
    '[passive]',
    'ports = "0"',
    ...(options.aTables ?? []),
    '[sites.b]',
    `hosts = ${JSON.stringify(options.bHosts)}`,
    'root = "b/root"',
    'users_file = "b/users.toml"',
    ...(options.b ?? []),
    ...(options.bTables ?? []),
  ];
}
