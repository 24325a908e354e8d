/**
 * The protocol state of one FTP session: who is logged in, where they are, and what the
 * last commands set up (TYPE, REST, RNFR, EPSV ALL, MLST facts, PBSZ/PROT), and the
 * charset names travel in on the control and data connections. It changes
 * only through the named transitions below, so every change is a protocol event that
 * can be found and tested; handlers read it and call these.
 */
import type { UserContext } from '../auth/authenticator.js';
import { FtpError } from '../errors.js';
import type { ByteRange } from '../protocol/extension-args.js';
import { createNameCodec, UTF8_CODEC, type NameCodec } from '../protocol/charset.js';
import { MLST_FACTS, type MlstFact } from '../protocol/listing.js';
import { resolveVirtualPath } from '../protocol/paths.js';
import type { StorageBackend } from '../storage/backend.js';
import type { Admission } from './limits/user-allowances.js';
import { DEFAULT_HASH_ALGORITHM, type HashAlgorithm } from './digest.js';

export type TransferType = 'A' | 'I';
export type ProtectionLevel = 'C' | 'P';

/** What a command may need from the commands just before it: REST's offset, RNFR's path. */
export interface CarriedArguments {
  restOffset: number;
  renameFrom: string | null;
}

export class SessionState {
  private currentUser: UserContext | null = null;
  /** The logged-in user's share of their limits, and their storage (with the quota enforced). */
  private currentAdmission: Admission | null = null;
  private namedUser: string | null = null;
  private directory = '/';
  private type: TransferType = 'A';
  private offset = 0;
  private renameSource: string | null = null;
  private extendedPassiveOnly = false;
  private facts: ReadonlySet<MlstFact> = new Set(MLST_FACTS);
  private failures = 0;
  private bufferSizeSet = false;
  private level: ProtectionLevel = 'C';
  private host: string | null = null;
  private algorithm: HashAlgorithm = DEFAULT_HASH_ALGORITHM;
  private byteRange: ByteRange | null = null;
  private siteCodec: NameCodec = UTF8_CODEC;
  private userCodec: NameCodec | null = null;
  private utf8Chosen = false;

  get user(): UserContext | null {
    return this.currentUser;
  }

  /** The name given by USER, waiting for PASS. */
  get pendingUser(): string | null {
    return this.namedUser;
  }

  get cwd(): string {
    return this.directory;
  }

  get transferType(): TransferType {
    return this.type;
  }

  /** EPSV ALL was sent: PASV, PORT and EPRT are refused from now on (RFC 2428). */
  get epsvAll(): boolean {
    return this.extendedPassiveOnly;
  }

  get mlstFacts(): ReadonlySet<MlstFact> {
    return this.facts;
  }

  get loginFailures(): number {
    return this.failures;
  }

  get pbszDone(): boolean {
    return this.bufferSizeSet;
  }

  /** PROT level for data connections: C (clear) or P (private, TLS). */
  get protection(): ProtectionLevel {
    return this.level;
  }

  /** The host name a HOST command gave (RFC 7151), until REIN. */
  get hostName(): string | null {
    return this.host;
  }

  /** The algorithm HASH uses (OPTS HASH selects it). */
  get hashAlgorithm(): HashAlgorithm {
    return this.algorithm;
  }

  /** The byte range RANG set for the next HASH, or null for the whole file. */
  get range(): ByteRange | null {
    return this.byteRange;
  }

  /** The logged-in user's storage, or null before login (FEAT and HELP depend on what it can do). */
  get storageIfLoggedIn(): StorageBackend | null {
    return this.currentAdmission?.storage ?? null;
  }

  /**
   * How names are written on the wire (commands, replies, listings): UTF-8 once the
   * client asked for it (OPTS UTF8 ON), else the logged-in user's charset, else the site's.
   */
  get nameCodec(): NameCodec {
    if (this.utf8Chosen) return UTF8_CODEC;
    return this.userCodec ?? this.siteCodec;
  }

  /** The logged-in user's storage (the login policy guarantees there is one). */
  get storage(): StorageBackend {
    if (!this.currentAdmission) throw new FtpError('FERRY_ERR_STORAGE', 'Not logged in.');
    return this.currentAdmission.storage;
  }

  /** The logged-in user's limits in force (rates, quotas), or null before login. */
  get admission(): Admission | null {
    return this.currentAdmission;
  }

  /** Resolves a client path against the current directory (553 for an impossible name). */
  resolvePath(arg: string): string {
    const path = resolveVirtualPath(this.directory, arg);
    if (path === null) throw new FtpError('FERRY_ERR_BAD_NAME');
    return path;
  }

  hostNamed(name: string): void {
    this.host = name;
  }

  /** At connection, and whenever HOST, the TLS server name or REIN choose a site. */
  siteCharsetSet(codec: NameCodec): void {
    this.siteCodec = codec;
  }

  /** OPTS UTF8 ON: UTF-8 for the rest of the session, whatever the site or user say (RFC 2640). */
  utf8Requested(): void {
    this.utf8Chosen = true;
  }

  userNamed(name: string): void {
    this.namedUser = name;
  }

  /** PASS was read: the pending name is used up, whatever the outcome. */
  passwordGiven(): void {
    this.namedUser = null;
  }

  loggedIn(user: UserContext, admission: Admission): void {
    this.currentUser = user;
    this.currentAdmission = admission;
    this.directory = '/';
    this.userCodec = user.charset ? createNameCodec(user.charset) : null;
  }

  /**
   * Gives the user's session slot (and shares of rates and quota) back: at logout, and when
   * the connection closes (the storage stays usable for the transfer being cut short).
   */
  releaseAdmission(): void {
    this.currentAdmission?.release();
  }

  /** A wrong password; returns how many this session has had. */
  loginFailed(): number {
    return ++this.failures;
  }

  changedDirectory(path: string): void {
    this.directory = path;
  }

  typeSet(type: TransferType): void {
    this.type = type;
  }

  restartAt(offset: number): void {
    this.offset = offset;
  }

  renameFromSet(path: string): void {
    this.renameSource = path;
  }

  epsvAllEntered(): void {
    this.extendedPassiveOnly = true;
  }

  mlstFactsSet(facts: ReadonlySet<MlstFact>): void {
    this.facts = facts;
  }

  bufferSizeNegotiated(): void {
    this.bufferSizeSet = true;
  }

  protectionSet(level: ProtectionLevel): void {
    this.level = level;
  }

  hashAlgorithmSelected(algorithm: HashAlgorithm): void {
    this.algorithm = algorithm;
  }

  /** RANG: a range for the next HASH; null ("RANG 1 0", or a refused RANG) means the whole file again. */
  rangeSet(range: ByteRange | null): void {
    this.byteRange = range;
  }

  /** HASH used the range: the one after it hashes the whole file unless RANG comes again. */
  rangeUsed(): ByteRange | null {
    const range = this.byteRange;
    this.byteRange = null;
    return range;
  }

  /** Implicit FTPS: the data connections are protected from the start (PBSZ 0, PROT P implied). */
  implicitTlsDefaults(): void {
    this.bufferSizeSet = true;
    this.level = 'P';
  }

  /**
   * REST and RNFR apply only to the command right after them; REST also survives the
   * data-connection setup clients send between it and RETR/STOR (`keepsRestart`).
   * Returns what the command about to run may use; commands that run during a transfer
   * (ABOR, STAT) leave both alone.
   */
  carryArguments(command: { duringTransfer: boolean; keepsRestart: boolean }): CarriedArguments {
    const carried = { restOffset: this.offset, renameFrom: this.renameSource };
    if (!command.duringTransfer) {
      if (!command.keepsRestart) this.offset = 0;
      this.renameSource = null;
    }
    return carried;
  }

  /**
   * Back to the state of a fresh connection (REIN); the TLS protection of the control
   * connection, the data protection level and a client's choice of UTF-8 stay. Returns whether a user was logged in.
   */
  reinitialized(): boolean {
    const wasLoggedIn = this.currentUser !== null;
    this.currentUser = null;
    this.releaseAdmission();
    this.currentAdmission = null;
    this.userCodec = null;
    this.namedUser = null;
    this.directory = '/';
    this.type = 'A';
    this.extendedPassiveOnly = false;
    this.facts = new Set(MLST_FACTS);
    this.host = null;
    this.algorithm = DEFAULT_HASH_ALGORITHM;
    this.byteRange = null;
    return wasLoggedIn;
  }
}
