/**
 * Self-signed certificates for FTPS tests, made by the system `openssl` (P-256, valid for
 * localhost, 127.0.0.1 and ::1): one shared per test process, or fresh pairs on demand.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertificateFiles {
  /** Path of the certificate (PEM). */
  cert: string;
  /** Path of the private key (PEM). */
  key: string;
}

export interface Certificate extends CertificateFiles {
  /** The certificate itself, e.g. for a client's `ca`. */
  certPem: string;
}

/** Writes a fresh self-signed certificate and key (cert.pem, key.pem) into `dir`. */
export function generateCertificate(dir: string, commonName = 'localhost'): CertificateFiles {
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2',
      '-subj', `/CN=${commonName}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 },
  );
  return { cert, key };
}

let shared: Certificate | undefined;

/** One certificate per test process (its folder is removed when the process exits). */
export function sharedCertificate(): Certificate {
  if (!shared) {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-test-cert-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const files = generateCertificate(dir);
    shared = { ...files, certPem: readFileSync(files.cert, 'utf8') };
  }
  return shared;
}

/** The SHA-256 fingerprint of a PEM certificate, in Node's getPeerCertificate() format. */
export function certFingerprint(certPath: string): string {
  const pem = readFileSync(certPath, 'utf8');
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return createHash('sha256')
    .update(der)
    .digest('hex')
    .toUpperCase()
    .match(/../g)!
    .join(':');
}
