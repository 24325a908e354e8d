/**
 * The real `ferry serve` as its own process with [storage] type = "s3" on a test Ceph
 * gateway (keys from the standard AWS environment variables, as the README shows), and
 * the generated "ferry" user it prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CephGateway } from './ceph.js';
import { FERRY_BIN } from '../client/support.js';
import { waitForReady } from './ferry-ready.js';
import { killOnExit, stopChild } from './run-process.js';

export interface FerryOnS3 {
  child: ChildProcess;
  /** ftp://127.0.0.1:PORT */
  url: string;
  /** "ferry:PASSWORD" for curl's --user. */
  user: string;
  /** Everything it printed on stdout so far. */
  output: () => string;
  stop: () => Promise<void>;
}

export async function serveOnS3(gateway: CephGateway, options: { dir: string; bucket: string; prefix: string; partSize: number }): Promise<FerryOnS3> {
  const config = join(options.dir, 'ferry.toml');
  writeFileSync(
    config,
    `[storage]
type = "s3"
endpoint = "${gateway.endpoint}"
bucket = "${options.bucket}"
prefix = "${options.prefix}"
path_style = true
part_size = ${options.partSize}
`,
  );
  const child = spawn(process.execPath, [FERRY_BIN, 'serve', '--config', config, '--host', '127.0.0.1', '--port', '0', '--passive-ports', '0'], {
    cwd: options.dir,
    env: { ...process.env, AWS_ACCESS_KEY_ID: gateway.accessKeyId, AWS_SECRET_ACCESS_KEY: gateway.secretAccessKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const ready = waitForReady(child);
  const port = await ready.port.catch(async (error: Error) => {
    await stopChild(child);
    throw new Error(`${error.message}\n${stderr}`);
  });
  const password = /user "ferry", password "([^"]+)"/.exec(ready.output())?.[1];
  if (!password) {
    await stopChild(child);
    throw new Error(`ferry printed no generated user: ${ready.output()}`);
  }
  return { child, url: `ftp://127.0.0.1:${port}`, user: `ferry:${password}`, output: ready.output, stop: () => stopChild(child) };
}
