/**
 * What the client knows about the server on one connection: the FEAT reply (RFC 2389),
 * and the optional commands the server has answered with 500 or 502 ("not understood",
 * "not implemented"). Every fallback decision of the client reads this one object, and
 * a refusal is remembered so the fallback is taken once, not re-tried on every call (as
 * lftp and basic-ftp do).
 *
 * FEAT decides MLST and UTF8 (RFC 3659, RFC 2640: a server that has them lists them);
 * commands that servers often have without listing them (SIZE, MDTM, REST, EPSV, EPRT)
 * are tried, and only a refusal counts, as curl and lftp do.
 */
import { FtpClientError } from './errors.js';
import type { FtpResponse } from './reply-parser.js';

/** Commands some calls cannot do without (size(), lastModified(), a resume): those calls fail clearly. */
export type NeededCommand = 'SIZE' | 'MDTM' | 'REST';

/** Every command the server may lack: the needed ones, and those with a fallback (MLSD -> LIST, EPSV -> PASV, EPRT -> PORT). */
export type OptionalCommand = NeededCommand | 'MLSD' | 'EPSV' | 'EPRT';

/** What a call cannot do without the command (for the error message). */
const WITHOUT: Readonly<Record<NeededCommand, string>> = {
  SIZE: "cannot tell a file's size",
  MDTM: "cannot tell a file's modification time",
  REST: 'cannot resume a transfer (startAt)',
};

/** 500 and 502 say the command is unknown to the server; any other code is about this one call. */
function isUnknownCommand(code: number): boolean {
  return code === 500 || code === 502;
}

export class ServerCapabilities {
  /** FEAT lines, upper-cased keyword -> rest ("MLST" -> "type*;size*;..."); empty without FEAT. */
  readonly features = new Map<string, string>();
  private readonly refusals = new Map<OptionalCommand, { code: number; text: string }>();

  /** Takes the reply to FEAT; anything but 211 (a server without FEAT) leaves the features unknown. */
  readFeat(reply: FtpResponse): void {
    if (reply.code !== 211) return;
    for (const line of reply.lines.slice(1, -1)) {
      const [keyword = '', ...rest] = line.trim().split(' ');
      if (keyword) this.features.set(keyword.toUpperCase(), rest.join(' '));
    }
  }

  /** List with MLSD: the server announces MLST and has not refused MLSD. */
  get mlsd(): boolean {
    return this.features.has('MLST') && this.supports('MLSD');
  }

  /** Send OPTS UTF8 ON: only to a server that announces UTF8. */
  get utf8(): boolean {
    return this.features.has('UTF8');
  }

  /**
   * False once the server has refused `command` with 500/502 on this connection; true
   * otherwise (try it).
   */
  supports(command: OptionalCommand): boolean {
    return !this.refusals.has(command);
  }

  /** Remembers a 500/502 answer to `command`; true when the reply was one (other codes are not remembered). */
  noteRefusal(command: OptionalCommand, code: number | undefined, text: string): boolean {
    if (code === undefined || !isUnknownCommand(code)) return false;
    this.refusals.set(command, { code, text });
    return true;
  }

  /** The code of the remembered refusal of `command`, for trace lines. */
  refusalCode(command: OptionalCommand): number | undefined {
    return this.refusals.get(command)?.code;
  }

  /**
   * Throws, before anything is sent, when `command` is known not to work: kind 'usage'
   * (the call cannot be made on this server), `code` the server's refusal when there was one.
   */
  assertSupported(command: NeededCommand, line: string): void {
    if (this.supports(command)) return;
    const refusal = this.refusals.get(command)!;
    throw new FtpClientError('usage', `${line}: the server does not support ${command} (it answered ${refusal.code} ${refusal.text}), so it ${WITHOUT[command]}`, refusal.code, { command: line });
  }
}
