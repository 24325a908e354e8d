/**
 * TLS material for the server: the certificate and key (re-read on SIGHUP without
 * dropping sessions) and the secure contexts built from them, one per control
 * connection (see TlsSessionScope).
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ConfigError } from '../../config/errors.js';
import { TlsSessionScope } from './session-scope.js';

export interface TlsFiles {
  cert: string;
  key: string;
}

/** RFC 7301 ALPN identifier for FTP; offered only to clients that send ALPN. */
export const FTP_ALPN = 'ftp';

/**
 * How long a TLS session stays resumable. OpenSSL's default (300 s) would make every
 * data connection of a control connection older than five minutes fail the reuse check;
 * the session's keys live only as long as its control connection anyway. (TLS 1.3 caps
 * a ticket's lifetime at seven days.)
 */
const SESSION_LIFETIME_SECONDS = 24 * 60 * 60;

/** The certificate a reload put in place, as its log line names it. */
export interface CertificateSummary {
  subject: string;
  validTo: string;
  fingerprint256: string;
  /** False when the files held the certificate already in use. */
  changed: boolean;
}

function fingerprintOf(cert: Buffer): string {
  return new X509Certificate(cert).fingerprint256;
}

export class TlsProvider {
  private material: { cert: Buffer; key: Buffer };

  constructor(private readonly files: TlsFiles) {
    this.material = this.read();
    // Fail at start-up, not at the first AUTH, if the pair is unusable or Node lacks the
    // ticket-key hook (an AUTH on the implicit listener has no command to answer with 4xx).
    this.createScope();
  }

  private read(): { cert: Buffer; key: Buffer } {
    const load = (key: 'cert' | 'key') => {
      try {
        return readFileSync(this.files[key]);
      } catch (error) {
        throw new ConfigError(`tls.${key}: cannot read ${this.files[key]}: ${(error as Error).message}`, `tls.${key}`);
      }
    };
    return { cert: load('cert'), key: load('key') };
  }

  /** Re-reads the files and says which certificate is now in use; on error (a ConfigError) the previous one stays. */
  reload(): CertificateSummary {
    const previous = this.material;
    this.material = this.read();
    try {
      this.createSecureContext();
    } catch (error) {
      this.material = previous;
      throw error;
    }
    // The context accepted the chain, so its first certificate parses.
    const leaf = new X509Certificate(this.material.cert);
    return { subject: leaf.subject.replace(/\n/g, ', '), validTo: leaf.validTo, fingerprint256: leaf.fingerprint256, changed: leaf.fingerprint256 !== fingerprintOf(previous.cert) };
  }

  /** A fresh resumption scope, with its own context and keys: one per control connection. */
  createScope(): TlsSessionScope {
    return new TlsSessionScope(this.createSecureContext());
  }

  /** A fresh context of this certificate (each control connection hooks its own keys into one). */
  createSecureContext(): SecureContext {
    try {
      return createSecureContext({
        cert: this.material.cert,
        key: this.material.key,
        minVersion: 'TLSv1.2',
        sessionTimeout: SESSION_LIFETIME_SECONDS,
      });
    } catch (error) {
      throw new ConfigError(`tls.cert/tls.key: not a usable certificate and key: ${(error as Error).message}`, 'tls.cert');
    }
  }
}
