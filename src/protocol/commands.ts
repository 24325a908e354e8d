/**
 * The control-connection command language: splitting the byte stream into lines
 * (with Telnet IAC handling) and splitting a line into verb and argument.
 * Pure code: no sockets, no file system.
 */

/** Longest command line accepted, in bytes, before the line is discarded with a 500. */
export const MAX_COMMAND_LINE_BYTES = 8192;

const IAC = 0xff;
const TELNET_WILL = 0xfb;
const TELNET_DONT = 0xfe;
const TELNET_WILL_FIRST = TELNET_WILL - 3; // WILL, WONT, DO, DONT are 251..254
/** Telnet commands are 240 (SE) .. 255 (IAC); a byte below that after IAC is data. */
const TELNET_COMMAND_FIRST = 0xf0;
const CR = 0x0d;
const LF = 0x0a;
/** Room for a typical command line; a longer one doubles it, up to the limit. */
const FIRST_LINE_BYTES = 128;
const NO_BYTES = Buffer.alloc(0);

/** A line's bytes, without its line end: the session decodes them in the charset it uses (see charset.ts). */
export type ReadResult = { kind: 'line'; bytes: Buffer } | { kind: 'too-long' };

/** Telnet parser states; the stream may split an IAC sequence across chunks. */
const enum TelnetState {
  Data,
  AfterIac,
  AfterOptionVerb,
}

/**
 * Turns the control connection's bytes into command lines (as bytes: which charset
 * they are in is the session's choice, and may change between two lines).
 *
 * Clients send "ABOR" preceded by Telnet IP and Synch (IAC IP, IAC DM), possibly as
 * urgent data; those bytes are stripped here so the verb parses cleanly. Lines end at
 * CRLF, a bare LF or a bare CR (as lenient servers accept). A line longer than
 * MAX_COMMAND_LINE_BYTES is reported once as 'too-long' and discarded to its end, so a
 * flood cannot grow memory.
 */
export class CommandLineReader {
  /**
   * The line being read, grown as it comes and handed over whole when it ends: an idle
   * session holds no buffer at all (a fixed one of MAX_COMMAND_LINE_BYTES was most of an
   * idle session's memory).
   */
  private buffer = NO_BYTES;
  private length = 0;
  private overflowed = false;
  private telnet = TelnetState.Data;
  private afterCr = false;

  constructor(private readonly maxBytes = MAX_COMMAND_LINE_BYTES) {}

  feed(chunk: Buffer): ReadResult[] {
    const results: ReadResult[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (this.telnet === TelnetState.AfterIac) {
        // IAC IAC is an escaped 0xFF data byte; WILL/WONT/DO/DONT carry one option byte.
        // A byte below the Telnet commands means the IAC lost its partner: clients send
        // "IAC IP IAC DM ABOR" with DM as TCP urgent data, which Linux removes from the
        // stream, so "ABOR" follows a bare IAC and must stay data.
        this.telnet = TelnetState.Data;
        if (byte >= TELNET_WILL_FIRST && byte <= TELNET_DONT) {
          this.telnet = TelnetState.AfterOptionVerb;
          continue;
        }
        if (byte !== IAC && byte >= TELNET_COMMAND_FIRST) continue;
      } else if (this.telnet === TelnetState.AfterOptionVerb) {
        this.telnet = TelnetState.Data;
        continue;
      } else if (byte === IAC) {
        this.telnet = TelnetState.AfterIac;
        continue;
      }
      if (byte === LF) {
        // The LF of a CRLF whose CR already ended the line.
        if (this.afterCr) {
          this.afterCr = false;
          continue;
        }
        results.push(this.takeLine());
        continue;
      }
      this.afterCr = false;
      if (byte === CR) {
        // CR ends a line too: ftplib sends "ABOR\r\n" as urgent data and Linux keeps
        // the LF out of the stream, so "ABOR\r" is all that arrives.
        this.afterCr = true;
        results.push(this.takeLine());
        continue;
      }
      if (this.length === this.maxBytes) this.overflowed = true;
      else {
        if (this.length === this.buffer.length) this.grow();
        this.buffer[this.length++] = byte;
      }
    }
    return results;
  }

  private grow(): void {
    // Its own memory (allocUnsafeSlow), not a slice of Node's shared 8 KiB pool: a line
    // the session keeps (a USER name, an RNFR path) must not keep a whole pool alive.
    const next = Buffer.allocUnsafeSlow(Math.min(this.maxBytes, Math.max(FIRST_LINE_BYTES, this.buffer.length * 2)));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  private takeLine(): ReadResult {
    const bytes = this.overflowed ? null : this.buffer.subarray(0, this.length);
    // The line keeps the buffer; the next one starts a new one.
    this.buffer = NO_BYTES;
    this.length = 0;
    this.overflowed = false;
    return bytes ? { kind: 'line', bytes } : { kind: 'too-long' };
  }
}

export interface ParsedCommand {
  /** Upper-case verb, e.g. "RETR". */
  verb: string;
  /**
   * Everything after the first space, verbatim (file names may have spaces, quotes,
   * leading blanks), as bytes: the session decodes it in its charset when it runs.
   */
  arg: Buffer;
}

/** RFC 959 verbs are 3-4 letters; the digest extensions XMD5, XSHA1 and XSHA256 are the only others clients send. */
const VERB = /^(?:[A-Za-z]{3,4}|XMD5|XSHA1|XSHA256)$/i;
const SPACE = 0x20;

/**
 * Splits "VERB arg" into its parts; null when the verb is not 3-4 letters (a 500 reply).
 * Works on bytes for every charset a session may use: they all keep ASCII as it is, and
 * none has 0x20 inside a multi-byte character (see charset.ts).
 */
export function parseCommand(line: Buffer): ParsedCommand | null {
  const space = line.indexOf(SPACE);
  const verb = (space === -1 ? line : line.subarray(0, space)).toString('latin1');
  if (!VERB.test(verb)) return null;
  return { verb: verb.toUpperCase(), arg: space === -1 ? Buffer.alloc(0) : line.subarray(space + 1) };
}

/** Verbs whose argument is a secret: it never appears in a log, a trace or an error message. */
const SECRET_VERBS = new Set(['PASS', 'ACCT']);

/**
 * How a hidden argument is shown: "****" in logs and error messages; "XXXX" in a client
 * trace, as `ftp -d` prints it ("---> PASS XXXX").
 */
const MASKS = { log: '****', trace: 'XXXX' } as const;
export type MaskStyle = keyof typeof MASKS;

/** The argument of `verb` (upper case) as it may be shown: a secret is replaced by the mask. */
export function redactArgument(verb: string, arg: string, style: MaskStyle = 'log'): string {
  return SECRET_VERBS.has(verb) ? MASKS[style] : arg;
}

/** A whole command line as it may be shown: "PASS ****" (or "PASS XXXX"); other lines unchanged. */
export function redactCommand(line: string, style: MaskStyle = 'log'): string {
  const verb = line.split(' ')[0]!.toUpperCase();
  return SECRET_VERBS.has(verb) ? `${verb} ${MASKS[style]}` : line;
}
