/**
 * A tolerant reader of a control connection for the fuzzer: it never throws on what the
 * server sends, it assembles replies by the RFC 959 (4.2) multi-line rules and records
 * every framing violation it sees, so the property can assert there were none.
 *
 * Framing rules checked: every line ends with CRLF (no bare CR or LF anywhere); a reply
 * starts with a code 1xx-5xx whose second digit is 0-5, followed by " " or "-"; a
 * multi-line reply ends at the first line starting with the same code and a space; an
 * intermediate line never starts with three digits (RFC 959: "the server must pad the
 * front to avoid confusion"); the connection never ends in the middle of a reply.
 */
import type { Socket } from 'node:net';

export interface Reply {
  code: number;
  lines: string[];
  /** Text of the final line after "NNN ". */
  text: string;
}

const REPLY_START = /^[1-5][0-5]\d[ -]/;
const THREE_DIGITS = /^\d{3}/;
/** Bytes kept of one unfinished line before it counts as a framing error (a reply never gets this long). */
const MAX_LINE_BYTES = 64 * 1024;

export class ReplyStream {
  readonly replies: Reply[] = [];
  readonly framingErrors: string[] = [];
  /** Every byte received, as latin1 text (for leak checks). */
  received = '';
  closed = false;
  /**
   * Set once we dropped the connection ourselves, or the server said 234 (the stream
   * turns into a TLS handshake): what follows is not FTP replies.
   */
  private framingOver = false;
  private consumed = 0;
  private partial = Buffer.alloc(0);
  private open: { code: string; lines: string[] } | null = null;
  private readonly watchers = new Set<() => void>();

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.onClose());
  }

  /** We are dropping the connection: a reply cut short from now on is our doing. */
  abandon(): void {
    this.framingOver = true;
  }

  private onData(chunk: Buffer): void {
    this.received += chunk.toString('latin1');
    if (this.framingOver) return;
    let data = Buffer.concat([this.partial, chunk]);
    let newline: number;
    while (!this.framingOver && (newline = data.indexOf(0x0a)) !== -1) {
      const raw = data.subarray(0, newline);
      data = data.subarray(newline + 1);
      if (raw[raw.length - 1] !== 0x0d) this.framingErrors.push(`line ended by a bare LF: ${show(raw)}`);
      const body = raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw;
      if (body.includes(0x0d)) this.framingErrors.push(`bare CR inside a line: ${show(body)}`);
      this.onLine(body.toString('utf8'));
    }
    if (data.length > MAX_LINE_BYTES) {
      this.framingErrors.push(`unterminated line longer than ${MAX_LINE_BYTES} bytes`);
      data = Buffer.alloc(0);
    }
    this.partial = Buffer.from(data);
    this.notify();
  }

  private onLine(line: string): void {
    if (this.open) {
      this.open.lines.push(line);
      if (line.startsWith(this.open.code + ' ')) {
        this.complete(this.open.code, this.open.lines);
        this.open = null;
      } else if (THREE_DIGITS.test(line)) {
        this.framingErrors.push(`unpadded intermediate line in a ${this.open.code} reply: ${JSON.stringify(line.slice(0, 80))}`);
      }
      return;
    }
    if (!REPLY_START.test(line)) {
      this.framingErrors.push(`reply line without a valid code: ${JSON.stringify(line.slice(0, 80))}`);
      return;
    }
    const code = line.slice(0, 3);
    if (line[3] === '-') this.open = { code, lines: [line] };
    else this.complete(code, [line]);
  }

  private complete(code: string, lines: string[]): void {
    this.replies.push({ code: Number(code), lines, text: lines[lines.length - 1]!.slice(4) });
    if (code === '234') this.framingOver = true;
  }

  private onClose(): void {
    this.closed = true;
    if (this.framingOver) {
      this.notify();
      return;
    }
    if (this.partial.length > 0) this.framingErrors.push(`connection closed after a partial line: ${show(this.partial)}`);
    if (this.open) this.framingErrors.push(`connection closed inside a multi-line ${this.open.code} reply`);
    this.notify();
  }

  private notify(): void {
    for (const watcher of [...this.watchers]) watcher();
  }

  /** Replies received and not yet taken. */
  get unread(): number {
    return this.replies.length - this.consumed;
  }

  /** Takes every reply received so far. */
  drain(): Reply[] {
    const taken = this.replies.slice(this.consumed);
    this.consumed = this.replies.length;
    return taken;
  }

  /**
   * Takes replies up to and including the first one `match` accepts; null when none came
   * within `timeoutMs` or the connection closed first (the replies read stay taken).
   */
  async until(match: (reply: Reply) => boolean, timeoutMs: number): Promise<Reply | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.consumed < this.replies.length) {
        const reply = this.replies[this.consumed++]!;
        if (match(reply)) return reply;
      }
      if (this.closed || Date.now() >= deadline) return null;
      await this.change(deadline - Date.now());
    }
  }

  /** The next reply, or null (timeout or closed). */
  next(timeoutMs: number): Promise<Reply | null> {
    return this.until(() => true, timeoutMs);
  }

  /** Resolves when bytes arrive, the connection closes, or `ms` pass. */
  private change(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.watchers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      this.watchers.add(done);
    });
  }
}

function show(bytes: Buffer): string {
  return JSON.stringify(bytes.subarray(0, 80).toString('latin1'));
}
