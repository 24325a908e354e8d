/**
 * TLS material for the server: the certificate and key (re-read on SIGHUP without
 * dropping sessions) and the secure contexts built from them.
 *
 * Each control connection gets its own secure context with its own session-ticket keys,
 * so a data connection can only resume a TLS session that was issued on that very
 * control connection (vsftpd's require_ssl_reuse): a stranger who races to the passive
 * port with a session from elsewhere cannot complete the check.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ConfigError } from '../../config/errors.js';

export interface TlsFiles {
  cert: string;
  key: string;
}

/** RFC 7301 ALPN identifier for FTP; offered only to clients that send ALPN. */
export const FTP_ALPN = 'ftp';

export class TlsProvider {
  private material: { cert: Buffer; key: Buffer };

  constructor(private readonly files: TlsFiles) {
    this.material = this.read();
    this.createContext(); // fail at start-up, not at the first AUTH, if the pair is unusable
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

  /** Re-reads the files; on error the previous certificate stays in use. */
  reload(): void {
    const previous = this.material;
    this.material = this.read();
    try {
      this.createContext();
    } catch (error) {
      this.material = previous;
      throw error;
    }
  }

  /** A fresh context with its own ticket keys: one per control connection. */
  createContext(): SecureContext {
    let context: SecureContext;
    try {
      context = createSecureContext({ cert: this.material.cert, key: this.material.key, minVersion: 'TLSv1.2' });
    } catch (error) {
      throw new ConfigError(`tls.cert/tls.key: not a usable certificate and key: ${(error as Error).message}`, 'tls.cert');
    }
    (context.context as { setTicketKeys(keys: Buffer): void }).setTicketKeys(randomBytes(48));
    return context;
  }
}
