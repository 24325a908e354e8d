/**
 * What the README's shell examples expect to find, made fresh for each example block:
 * the files and folders its URLs name on the server, the local files its commands name,
 * the certificates its paths name, and a checkout to run `npm` in. Generic on purpose, so
 * a new README line about the same files runs without a change here.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ALL_BYTES, randomData } from './data.js';

export interface CertificatePair {
  cert: string;
  key: string;
}

/** A self-signed certificate (its own CA: `--ca` takes it) for every name in `names` and 127.0.0.1, made by openssl. */
export function certificateFor(dir: string, names: readonly string[]): CertificatePair {
  mkdirSync(dir, { recursive: true });
  const pair = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  const san = [...names.map((name) => `DNS:${name}`), 'DNS:localhost', 'IP:127.0.0.1'].join(',');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', pair.key, '-out', pair.cert, '-days', '2', '-subj', `/CN=${names[0] ?? 'localhost'}`, '-addext', `subjectAltName=${san}`],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 },
  );
  return pair;
}

function write(path: string, data: Buffer | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/**
 * The remote side, as the README's client examples name it: dir/ with file.iso (256 KiB
 * of random bytes) and more, notes.txt, a.txt, big.iso, logs/*.gz, old/ (a tree to
 * remove), site/ (a tree to mirror), inbox/ and in/ (upload targets) and pub/.
 */
export function writeServerTree(root: string): void {
  write(join(root, 'dir', 'file.iso'), randomData(256 * 1024));
  write(join(root, 'dir', 'other.iso'), ALL_BYTES);
  write(join(root, 'dir', 'notes.txt'), 'notes in dir\n');
  write(join(root, 'notes.txt'), 'remember the milk\n');
  write(join(root, 'a.txt'), 'a\n');
  write(join(root, 'old', 'x.txt'), 'old x\n');
  write(join(root, 'old', 'sub', 'y.txt'), 'old y\n');
  write(join(root, 'site', 'index.html'), '<h1>remote site</h1>\n');
  write(join(root, 'site', 'css', 'style.css'), 'h1 { color: teal }\n');
  write(join(root, 'pub', 'big.iso'), ALL_BYTES);
  write(join(root, 'big.iso'), randomData(512 * 1024));
  write(join(root, 'logs', 'monday.gz'), randomData(1000));
  write(join(root, 'logs', 'tuesday.gz'), randomData(2000));
  write(join(root, 'logs', 'readme.txt'), 'not a log\n');
  mkdirSync(join(root, 'inbox'), { recursive: true });
  mkdirSync(join(root, 'in'), { recursive: true });
}

/** The local side: ./report.pdf, a.txt, b.txt, c1.bin, c2.bin and a ./site tree (to upload). */
export function writeLocalFiles(cwd: string): void {
  write(join(cwd, 'report.pdf'), randomData(64 * 1024));
  write(join(cwd, 'a.txt'), 'local a\n');
  write(join(cwd, 'b.txt'), 'local b\n');
  write(join(cwd, 'c1.bin'), randomData(3000));
  write(join(cwd, 'c2.bin'), randomData(4000));
  write(join(cwd, 'site', 'index.html'), '<h1>local site</h1>\n');
  write(join(cwd, 'site', 'img', 'logo.png'), ALL_BYTES.subarray(0, 10_000));
}

/**
 * A checkout to run `npm start` in: its package.json and bin/ copied (so ./ftp-root is
 * made here), its build (dist/, the native addon) and node_modules linked.
 */
export function copyCheckout(repo: string, cwd: string): void {
  for (const entry of ['package.json', 'bin']) cpSync(join(repo, entry), join(cwd, entry), { recursive: true });
  for (const entry of ['dist', 'node_modules', 'build']) if (existsSync(join(repo, entry))) symlinkSync(join(repo, entry), join(cwd, entry));
}

/**
 * A file for every `/etc/letsencrypt/live/NAME/fullchain.pem` and `privkey.pem` the
 * commands name (below `fsRoot`): copies of `pair`.
 */
export function writeNamedCertificates(fsRoot: string, commands: readonly string[], pair: CertificatePair): void {
  for (const command of commands) {
    for (const match of command.matchAll(/\/etc\/letsencrypt\/live\/([^/\s]+)\//g)) {
      const dir = join(fsRoot, 'etc', 'letsencrypt', 'live', match[1]!);
      mkdirSync(dir, { recursive: true });
      cpSync(pair.cert, join(dir, 'fullchain.pem'));
      cpSync(pair.key, join(dir, 'privkey.pem'));
    }
  }
}
