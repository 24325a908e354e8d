/**
 * What a control connection's data connections may resume (vsftpd's require_ssl_reuse,
 * ProFTPD's default): only TLS sessions born on that control connection. A stranger who
 * races to the passive port with a session from elsewhere cannot pass the check.
 *
 * ProFTPD proves "same session" by comparing session IDs (TLS 1.2) and random appdata
 * sealed into its tickets (TLS 1.3). Here the scope itself does it: each control
 * connection has its own ticket keys, so only its tickets decrypt, and its own session-ID
 * cache, so only its session IDs are found. Every legitimate way of resuming works:
 *
 * - TLS 1.3 tickets, used more than once (Python, GnuTLS) or once each (curl and other
 *   OpenSSL clients with a client session cache: OpenSSL drops a TLS 1.3 session from
 *   that cache once used). For the latter, a resumed TLS 1.3 data connection that carries
 *   a download or listing issues a fresh ticket, which the client reads with the data
 *   and resumes its next data connection with. An upload's does not: its client never
 *   reads that connection, and unread bytes make its close a reset (ProFTPD issue #959),
 *   so curl can upload only once per control connection under TLS 1.3.
 * - TLS 1.2 tickets, and TLS 1.2 session IDs (curl turns tickets off): the control
 *   connection's sessions are cached for the data connections to look up.
 *
 * A data connection that does not resume is refused (522), but its full handshake still
 * ends with tickets; those are sealed under a name no key answers to, so whoever made it
 * (possibly a thief at the passive port) gains nothing to resume with next time.
 */
import { randomBytes } from 'node:crypto';
import { Server } from 'node:net';
import type { SecureContext } from 'node:tls';

/** Sessions a control connection creates: one per full handshake, renegotiations included. */
const MAX_CACHED_SESSIONS = 4;

const TICKET_NAME_BYTES = 16;
const TICKET_IV_BYTES = 16;
const TICKET_AES_BYTES = 16; // Node encrypts tickets with AES-128-CBC
const TICKET_HMAC_BYTES = 32; // and authenticates them with HMAC-SHA256

/** OpenSSL's ticket key callback results: reject, accept, accept and issue a new ticket. */
const enum TicketDecision {
  Unknown = 0,
  Accept = 1,
  AcceptAndRenew = 2,
}

/**
 * The native secure context's ticket-key hook. Node has no public API for renewing
 * tickets or telling a ticket's origin; this is the hook its own tests use
 * (test-https-resume-after-renew), present in every Node version Ferry supports; its
 * absence stops the server at start-up (TlsProvider builds a scope there).
 */
interface NativeTicketHooks {
  enableTicketKeyCallback?: () => void;
  onticketkeycallback?: (name: Buffer, iv: Buffer, encrypt: boolean) => unknown[];
}

/** The data connection being secured (a control connection runs one transfer at a time). */
interface DataHandshake {
  /** A download or listing: the client reads this connection, so it will see a new ticket. */
  clientReads: boolean;
  /** It presented one of this scope's tickets. */
  resumed: boolean;
}

export class TlsSessionScope {
  /** The TLSSocket `server` of the control connection: records the sessions it creates. */
  readonly controlHost = new Server();
  /** The TLSSocket `server` of the data connections: resumes those sessions, and no others. */
  readonly dataHost = new Server();
  private readonly sessions = new Map<string, Buffer>();
  private readonly ticketName = randomBytes(TICKET_NAME_BYTES);
  private readonly aesKey = randomBytes(TICKET_AES_BYTES);
  private readonly hmacKey = randomBytes(TICKET_HMAC_BYTES);
  private tls13 = false;
  private data: DataHandshake | null = null;

  private current: SecureContext;

  constructor(context: SecureContext) {
    this.current = this.hook(context);
    this.controlHost.on('newSession', (id: Buffer, session: Buffer, done: () => void) => {
      this.remember(id.toString('hex'), session);
      done();
    });
    this.dataHost.on('resumeSession', (id: Buffer, callback: (error: Error | null, session: Buffer | null) => void) => {
      callback(null, this.sessions.get(id.toString('hex')) ?? null);
    });
  }

  /** The certificate and keys this control connection's handshakes use. */
  get context(): SecureContext {
    return this.current;
  }

  /**
   * The TLS server name chose another site's certificate: its context gets this scope's
   * ticket keys and becomes the one the data connections use, so sessions still resume.
   */
  adopt(context: SecureContext): void {
    this.current = this.hook(context);
  }

  private hook(context: SecureContext): SecureContext {
    const hooks = context.context as NativeTicketHooks;
    if (typeof hooks.enableTicketKeyCallback !== 'function') {
      throw new Error('this Node.js version lacks the TLS ticket-key hook that FTPS session reuse needs');
    }
    hooks.enableTicketKeyCallback();
    hooks.onticketkeycallback = (name, _iv, encrypt) => (encrypt ? this.sealTicket() : this.openTicket(name));
    return context;
  }

  /** Called once the control connection is secured, with the protocol it negotiated. */
  controlSecured(protocol: string | null): void {
    this.tls13 = protocol === 'TLSv1.3';
  }

  /** Called before each data connection's handshake. */
  beginDataConnection(options: { clientReads: boolean }): void {
    this.data = { clientReads: options.clientReads, resumed: false };
  }

  private sealTicket(): unknown[] {
    const usable = this.data === null || this.data.resumed;
    const name = usable ? this.ticketName : randomBytes(TICKET_NAME_BYTES);
    return [TicketDecision.Accept, this.hmacKey, this.aesKey, name, randomBytes(TICKET_IV_BYTES)];
  }

  private openTicket(name: Buffer): unknown[] {
    // The keys go back even with a refusal: Node reads them before it looks at the decision.
    if (!name.equals(this.ticketName)) return [TicketDecision.Unknown, this.hmacKey, this.aesKey];
    if (this.data) this.data.resumed = true;
    // Only TLS 1.3 renews: an OpenSSL client that receives a new TLS 1.2 ticket drops the
    // session it resumed, and TLS 1.2 tickets are reusable anyway.
    const renew = this.tls13 && this.data?.clientReads === true;
    return [renew ? TicketDecision.AcceptAndRenew : TicketDecision.Accept, this.hmacKey, this.aesKey];
  }

  private remember(id: string, session: Buffer): void {
    this.sessions.set(id, session);
    for (const oldest of this.sessions.keys()) {
      if (this.sessions.size <= MAX_CACHED_SESSIONS) break;
      this.sessions.delete(oldest);
    }
  }
}
