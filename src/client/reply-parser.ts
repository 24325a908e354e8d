/**
 * Parses the server's control-connection text into replies (RFC 959 4.2): single
 * lines "NNN text" and multi-line blocks "NNN-..." closed by "NNN text". Pure code.
 */
import { FtpClientError } from './errors.js';

export interface FtpResponse {
  code: number;
  /** Text of all lines, codes stripped from the first and last, joined with "\n". */
  message: string;
  /** The raw lines. */
  lines: string[];
}

/** Largest reply accepted (a STAT listing can be long); more is a protocol error, not memory growth. */
export const MAX_REPLY_BYTES = 1024 * 1024;

export class ReplyParser {
  private partial = '';
  private block: string[] = [];
  private blockBytes = 0;

  feed(text: string): FtpResponse[] {
    const out: FtpResponse[] = [];
    this.partial += text;
    if (this.partial.length > MAX_REPLY_BYTES) throw new FtpClientError('protocol', 'server reply too long');
    let newline: number;
    while ((newline = this.partial.indexOf('\n')) !== -1) {
      const line = this.partial.slice(0, newline).replace(/\r$/, '');
      this.partial = this.partial.slice(newline + 1);
      const reply = this.addLine(line);
      if (reply) out.push(reply);
    }
    return out;
  }

  private addLine(line: string): FtpResponse | null {
    if (this.block.length === 0) {
      const match = /^(\d{3})([ -])(.*)$/.exec(line);
      if (!match) {
        if (line.trim() === '') return null; // stray blank line between replies
        throw new FtpClientError('protocol', `not an FTP reply: ${JSON.stringify(line.slice(0, 80))}`);
      }
      if (match[2] === ' ') return { code: Number(match[1]), message: match[3]!, lines: [line] };
      this.block = [line];
      this.blockBytes = line.length;
      return null;
    }
    this.block.push(line);
    this.blockBytes += line.length;
    if (this.blockBytes > MAX_REPLY_BYTES) throw new FtpClientError('protocol', 'server reply too long');
    const code = this.block[0]!.slice(0, 3);
    if (!line.startsWith(code + ' ')) return null;
    const lines = this.block;
    this.block = [];
    const message = [lines[0]!.slice(4), ...lines.slice(1, -1), line.slice(4)].join('\n');
    return { code: Number(code), message, lines };
  }
}
