/**
 * What one fuzz sequence does, as plain data (so fast-check can print and shrink it),
 * and how a command line turns into the exact bytes sent.
 */

/** A piece of an argument: text (sent as UTF-8) or raw bytes (NUL, bare CR, IAC, bad UTF-8...). */
export type ArgPiece = string | Uint8Array;

export type LineEnd = 'crlf' | 'lf' | 'cr' | 'crnul' | 'none';

export interface CommandLine {
  verb: string;
  /** Null: the verb alone; else a space and the pieces. */
  arg: ArgPiece[] | null;
  end: LineEnd;
  /** Telnet "interrupt process" and "data mark" before the verb, as clients send before ABOR. */
  telnetPrefix: boolean;
}

export type DataMode = 'PASV' | 'EPSV' | 'PORT' | 'EPRT';

/**
 * What the client does with the data connection once the transfer command is sent:
 * "complete" sends or reads everything; "reset" breaks it with a TCP RST part-way;
 * "abor"/"abor-telnet" send ABOR part-way (the second with Telnet IP/DM first); "stat"
 * asks STAT part-way, then completes; "stall" stops reading/writing for a while;
 * "vanish" drops the control connection part-way; "ignore" never connects.
 */
export type DataAction = 'complete' | 'reset' | 'abor' | 'abor-telnet' | 'stat' | 'stall' | 'vanish' | 'ignore';

export type Step =
  /** Lines in one write, or split into several writes at `cuts` (byte offsets). */
  | { kind: 'send'; lines: CommandLine[]; cuts: number[] }
  | { kind: 'raw'; bytes: Uint8Array }
  /** Many PASV or EPSV in one write (passive port and listener churn). */
  | { kind: 'storm'; verb: 'PASV' | 'EPSV'; count: number }
  /** PORT/EPRT to a target the server must refuse (another host, a privileged port), then a transfer command. */
  | { kind: 'bounce'; command: string; then: string }
  | {
      kind: 'transfer';
      verb: string;
      arg: ArgPiece[];
      mode: DataMode;
      /** Passive modes: connect from our own address, from another loopback address (must be refused). */
      from: 'self' | 'foreign';
      action: DataAction;
      /** Upload size (bytes of the shared random buffer). */
      size: number;
    };

export type LoginAs = 'alice' | 'bob' | 'anonymous' | 'wrong-password' | 'none';

export interface Sequence {
  login: LoginAs;
  steps: Step[];
}

const ENDINGS: Record<LineEnd, Buffer> = {
  crlf: Buffer.from('\r\n'),
  lf: Buffer.from('\n'),
  cr: Buffer.from('\r'),
  crnul: Buffer.from('\r\0'),
  none: Buffer.alloc(0),
};

export const TELNET_IP_DM = Buffer.from([0xff, 0xf4, 0xff, 0xf2]);

export function argBytes(arg: readonly ArgPiece[]): Buffer {
  return Buffer.concat(arg.map((piece) => (typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece))));
}

export function lineBytes(line: CommandLine): Buffer {
  return Buffer.concat([
    line.telnetPrefix ? TELNET_IP_DM : Buffer.alloc(0),
    Buffer.from(line.verb, 'utf8'),
    line.arg === null ? Buffer.alloc(0) : Buffer.concat([Buffer.from(' '), argBytes(line.arg)]),
    ENDINGS[line.end],
  ]);
}

/** Splits `bytes` at the given offsets (clamped, sorted, deduplicated). */
export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const offsets = [...new Set(cuts.map((cut) => Math.min(Math.max(cut, 0), bytes.length)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let start = 0;
  for (const offset of [...offsets, bytes.length]) {
    if (offset > start) parts.push(bytes.subarray(start, offset));
    start = offset;
  }
  return parts;
}
