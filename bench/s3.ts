/**
 * `npm run bench:s3`: what Ferry costs over an object store. One throwaway Ceph RGW (the
 * tests' gateway, test/helpers/ceph.ts) and one `ferry serve` on it; the same object
 * size is put and got directly with the AWS SDK (lib-storage multipart upload, streamed
 * GetObject) and through Ferry with curl (STOR, RETR), alternating run by run; reported
 * as MB/s medians with min–max and the Ferry/direct ratio.
 *
 *   npm run bench:s3                  # 64 MiB objects, 3 repetitions
 *   npm run bench:s3 -- --size 128 --reps 2
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startCephGateway } from '../test/helpers/ceph.js';
import { waitForReady } from '../test/helpers/ferry-ready.js';
import { stopChild } from '../test/helpers/run-process.js';

const MIB = 1024 * 1024;
/** Ferry's default part size, for the direct upload too. */
const PART_SIZE = 8 * MIB;

function option(name: string, fallback: number, max: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? fallback : Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`--${name}: a whole number from 1 to ${max}`);
  return value;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** MB/s of `bytes` moved by `work`. */
async function rate(bytes: number, work: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return bytes / 1e6 / (Number(process.hrtime.bigint() - started) / 1e9);
}

function curl(args: string[]): void {
  const result = spawnSync('curl', ['-q', '--silent', '--show-error', '--fail', ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`curl ${args.join(' ')} failed: ${result.stderr}`);
}

async function main(): Promise<void> {
  const sizeMib = option('size', 64, 256);
  const reps = option('reps', 3, 10);
  // memstore keeps objects in RAM (1 GiB in the tests' gateway), and the gateway frees
  // deleted multipart objects only later (its garbage collection): every object written counts.
  if (2 * reps * sizeMib > 768) throw new Error(`--size ${sizeMib} --reps ${reps} writes ${2 * reps * sizeMib} MiB: the gateway's in-memory store takes 768 MiB`);
  const bytes = sizeMib * MIB;
  const gateway = await startCephGateway();
  if ('skip' in gateway) throw new Error(gateway.skip);
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-s3-'));
  let ferry: ReturnType<typeof spawn> | undefined;
  const cleanUp = async () => {
    if (ferry) await stopChild(ferry);
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  // Ctrl-C must not leave the gateway's daemons behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().then(() => process.exit(130)));
  try {
    const bucket = await gateway.createBucket();
    const file = join(dir, 'object.bin');
    const chunk = Buffer.alloc(16 * MIB);
    const out = createWriteStream(file);
    for (let written = 0; written < bytes; written += chunk.length) out.write(Buffer.from(randomFillSync(chunk).subarray(0, Math.min(chunk.length, bytes - written))));
    await new Promise((done) => out.end(done));
    const config = join(dir, 'ferry.toml');
    writeFileSync(config, ['[storage]', 'type = "s3"', `endpoint = "${gateway.endpoint}"`, `bucket = "${bucket}"`, 'prefix = "ferry"', 'path_style = true'].join('\n'));
    ferry = spawn(process.execPath, [resolve('bin/ferry.js'), 'serve', '--config', config, '--host', '127.0.0.1', '--port', '0', '--passive-ports', '0'], {
      cwd: dir,
      env: { ...process.env, AWS_ACCESS_KEY_ID: gateway.accessKeyId, AWS_SECRET_ACCESS_KEY: gateway.secretAccessKey, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const ready = waitForReady(ferry);
    const port = await ready.port;
    const password = /user "ferry", password "([^"]+)"/.exec(ready.output())![1]!;
    const url = `ftp://127.0.0.1:${port}/through-ferry.bin`;
    const client = gateway.client();

    const runs: Record<string, number[]> = { 'direct PUT': [], 'Ferry STOR': [], 'direct GET': [], 'Ferry RETR': [] };
    const direct = async () => {
      runs['direct PUT']!.push(await rate(bytes, () => new Upload({ client, params: { Bucket: bucket, Key: 'direct.bin', Body: createReadStream(file) }, partSize: PART_SIZE, queueSize: 2 }).done().then(() => undefined)));
      runs['direct GET']!.push(
        await rate(bytes, async () => {
          const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'direct.bin' }));
          await pipeline(object.Body as Readable, createWriteStream('/dev/null'));
        }),
      );
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'direct.bin' }));
    };
    const throughFerry = async () => {
      runs['Ferry STOR']!.push(await rate(bytes, async () => curl(['--user', `ferry:${password}`, '-T', file, url])));
      runs['Ferry RETR']!.push(await rate(bytes, async () => curl(['--user', `ferry:${password}`, '-o', '/dev/null', url])));
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'ferry/through-ferry.bin' }));
    };
    for (let rep = 0; rep < reps; rep++) {
      process.stderr.write(`rep ${rep + 1}/${reps}…\n`);
      // Alternate which goes first, so neither always meets a warmer gateway.
      for (const run of rep % 2 === 0 ? [direct, throughFerry] : [throughFerry, direct]) await run();
    }
    const show = (values: number[]) => `${median(values).toFixed(0)} (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;
    const lines = [
      `S3 on a one-node Ceph RGW (memstore), ${sizeMib} MiB objects, ${reps} repetitions, ${new Date().toISOString()}`,
      '| operation | direct SDK MB/s | through Ferry MB/s | Ferry / direct |',
      '|---|---|---|---|',
      ...([['upload', 'direct PUT', 'Ferry STOR'], ['download', 'direct GET', 'Ferry RETR']] as const).map(
        ([name, d, f]) => `| ${name} | ${show(runs[d]!)} | ${show(runs[f]!)} | ${(median(runs[f]!) / median(runs[d]!)).toFixed(2)}× |`,
      ),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    mkdirSync(resolve('bench/results'), { recursive: true });
    writeFileSync(resolve('bench/results/s3-latest.json'), JSON.stringify({ sizeMib, reps, runs, date: new Date().toISOString() }, null, 2) + '\n');
  } finally {
    await cleanUp();
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench:s3 failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
