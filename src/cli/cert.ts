/**
 * `ferry cert`: a self-signed certificate for testing FTPS, made by the system
 * `openssl` (node:crypto makes keys but not X.509 certificates).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, chmodSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function createCertificate(options: { out: string; name: string; days: string }): Promise<void> {
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(options.name)) throw new Error(`--name: not a host name or IP address: ${options.name}`);
  if (!/^\d{1,5}$/.test(options.days)) throw new Error(`--days: not a number of days: ${options.days}`);
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  const cert = join(out, 'cert.pem');
  const key = join(out, 'key.pem');
  const san = [isIP(options.name) ? `IP:${options.name}` : `DNS:${options.name}`, 'IP:127.0.0.1', 'IP:::1', 'DNS:localhost'];
  try {
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', options.days,
      '-subj', `/CN=${options.name}`, '-addext', `subjectAltName=${[...new Set(san)].join(',')}`,
    ]);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the openssl command is not installed' : (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new Error(`cannot create the certificate: ${reason}`);
  }
  chmodSync(key, 0o600);
  process.stdout.write(`wrote ${cert} and ${key} (self-signed for ${options.name}, ${options.days} days)\n`);
}
