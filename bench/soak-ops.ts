/**
 * The soak's operations. Each runs on one client's own paths (so the expected content of
 * a path is exact), checks every reply, and records what the server may now hold in the
 * ledger. Integrity findings (a reset or truncated upload answered 226, a file read back
 * that is not its committed version) go to `integrity`; anything else unexpected throws.
 * The same ops run over plain FTP and explicit FTPS (the session decides); `put-fin`
 * only means something under TLS, where a bare TCP FIN is not a proper end of file.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Ledger, Slice, Verdict } from './soak-ledger.js';
import { closed, firstBytes, readAll, SoakError, SoakSession, written, type DataConnection, type DataMode } from './soak-session.js';

export interface OpContext {
  session: SoakSession | null;
  readonly ledger: Ledger;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** This client's paths (in its own folder). */
  readonly paths: readonly string[];
  /** Explicit FTPS (AUTH TLS, PROT P) for this client's sessions. */
  readonly tls: boolean;
  integrity(kind: string, detail: string): void;
  /** A complete, properly ended upload the server refused: no data lost, but a defect. */
  refused(detail: string): void;
}

export const OP_KINDS = [
  'put',
  'get',
  'put-ascii',
  'put-reset',
  'put-ascii-reset',
  'put-fin',
  'put-abor',
  'put-stall',
  'get-abor',
  'get-stall',
  'vanish-put',
  'vanish-get',
] as const;
export type OpKind = (typeof OP_KINDS)[number];

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const MODES: readonly DataMode[] = ['PASV', 'EPSV', 'PORT'];

function uploadSize(): number {
  const r = Math.random();
  return r < 0.05 ? 0 : r < 0.85 ? 64 * 1024 + Math.floor(Math.random() * 512 * 1024) : Math.floor(Math.random() * 4 * 1024 * 1024);
}

async function session(ctx: OpContext): Promise<SoakSession> {
  ctx.session ??= await SoakSession.open(ctx.port, ctx.user, ctx.password, ctx.tls);
  return ctx.session;
}

/** Starts a transfer: data connection, command, 150, and (under PROT P) the data TLS handshake. */
async function start(s: SoakSession, command: string): Promise<DataConnection> {
  const mode = pick(MODES);
  const data = await s.prepareData(mode);
  await s.command(command, [150, 125]);
  return data.connection().catch((error: Error) => {
    throw new SoakError(`${command} (${mode}): ${error.message}`);
  });
}

/** RETR in TYPE I; the content (null when the server answers 550). */
async function fetch(s: SoakSession, path: string): Promise<Buffer | null> {
  const mode = pick(MODES);
  const data = await s.prepareData(mode);
  const opening = await s.command(`RETR ${path}`, [150, 125, 550]);
  if (opening.code === 550) {
    data.cancel();
    return null;
  }
  const { io } = await data.connection().catch((error: Error) => {
    throw new SoakError(`RETR ${path} (${mode}): ${error.message}`);
  });
  const content = await readAll(io, `RETR ${path}`);
  await s.expectReply([226], `RETR ${path} end`);
  return content;
}

/** Reads `path` back and records anything but its current committed version. */
async function verify(ctx: OpContext, path: string, after: string): Promise<void> {
  const content = await fetch(await session(ctx), path);
  const verdict: Verdict = ctx.ledger.classify(path, content);
  if (verdict === 'current') return;
  const expected = ctx.ledger.current(path);
  ctx.integrity(verdict, `${path} after ${after}: read ${content?.length ?? 'no file'} bytes, committed version: ${expected ? `${expected.size} bytes` : 'none'}`);
  // Adopt what is there, so one damaged commit is reported once.
  if (content) ctx.ledger.commit(path, content);
}

/**
 * A whole upload ended properly (under TLS: close_notify, then the close); false when the
 * server refused it with 426 (reported, and the previous version must stay).
 */
async function put(ctx: OpContext, path: string, payload: Buffer): Promise<boolean> {
  const s = await session(ctx);
  const { io } = await start(s, `STOR ${path}`);
  io.end(payload);
  const what = `STOR ${path}${s.secure ? ' (TLS)' : ''} of ${payload.length} bytes`;
  const final = await s.expectReply([226, 426], `${what} end`);
  await closed(io, `${what} data close`);
  if (final.code === 426) {
    ctx.refused(`${what}, ended properly, was answered "${final.lines.join(' | ')}"`);
    return false;
  }
  ctx.ledger.commit(path, payload);
  return true;
}

function resetSize(): number {
  return 128 * 1024 + Math.floor(Math.random() * 2 * 1024 * 1024);
}

/** Sends part of an upload of `slice` (in its TYPE) and lets it reach the server. */
async function partOf(ctx: OpContext, path: string, slice: Slice): Promise<{ s: SoakSession; data: DataConnection; sent: number; size: number }> {
  const s = await session(ctx);
  ctx.ledger.attempt(path, slice);
  const payload = ctx.ledger.wire(slice);
  const data = await start(s, `STOR ${path}`);
  // Any cut, also between a CR and its LF in TYPE A.
  const sent = 1 + Math.floor(Math.random() * (payload.length - 1));
  data.io.write(payload.subarray(0, sent));
  await sleep(50);
  return { s, data, sent, size: payload.length };
}

/**
 * Part of an upload, then a TCP reset (under TLS too, below the TLS layer): it must get
 * 426 and leave the previous version.
 */
async function resetUpload(ctx: OpContext, type: 'I' | 'A'): Promise<void> {
  const path = pick(ctx.paths);
  const s = await session(ctx);
  if (type === 'A') await s.command('TYPE A', [200]);
  const slice = type === 'A' ? ctx.ledger.textSlice(resetSize()) : ctx.ledger.slice(resetSize());
  const { data, sent, size } = await partOf(ctx, path, slice);
  data.tcp.resetAndDestroy();
  data.io.destroy();
  const what = `STOR ${path} (TYPE ${type}${s.secure ? ', TLS' : ''}) after a reset`;
  const final = await s.expectReply(null, what);
  if (final.code === 226) ctx.integrity('reset-acknowledged', `${what}: reset after ${sent} of ${size} bytes was answered "${final.lines.join(' | ')}"`);
  // 425: in PORT mode the RST can reach the server before its connect() completed.
  else if (final.code !== 426 && final.code !== 425) throw new SoakError(`${what}: expected 426, got ${final.lines.join(' | ')}`);
  if (type === 'A') await s.command('TYPE I', [200]);
  await verify(ctx, path, `a reset STOR in TYPE ${type}`);
}

/** A RETR of `path` whose first bytes have arrived, left running. */
async function downloading(ctx: OpContext, path: string): Promise<{ s: SoakSession; data: DataConnection }> {
  const s = await session(ctx);
  const data = await start(s, `RETR ${path}`);
  await firstBytes(data.io);
  return { s, data };
}

/**
 * ABOR mid-transfer: the transfer's 426 and ABOR's 226 (or, when the transfer just
 * finished, its 226 and ABOR's 225/226); then a NOOP must get its 200.
 */
async function abort(s: SoakSession, data: DataConnection, what: string): Promise<void> {
  s.send('ABOR');
  await s.expectReply([426, 226, 225], `ABOR of ${what}`);
  data.io.destroy();
  data.tcp.destroy();
  s.send('NOOP');
  for (let i = 0; i < 3; i++) {
    const reply = await s.expectReply([426, 226, 225, 200], `NOOP after ABOR of ${what}`);
    if (reply.code === 200) return;
  }
  throw new SoakError(`no 200 for NOOP after ABOR of ${what}`);
}

export const OPS: Record<OpKind, (ctx: OpContext) => Promise<void>> = {
  async put(ctx) {
    const path = pick(ctx.paths);
    const slice = ctx.ledger.slice(uploadSize());
    ctx.ledger.attempt(path, slice);
    const committed = await put(ctx, path, ctx.ledger.bytes(slice));
    if (!committed || Math.random() < 0.5) await verify(ctx, path, committed ? 'STOR' : 'a refused STOR');
  },

  async get(ctx) {
    const path = pick(ctx.paths);
    if (!ctx.ledger.current(path)) return OPS.put(ctx);
    await verify(ctx, path, 'RETR');
  },

  async 'put-ascii'(ctx) {
    const path = pick(ctx.paths);
    const slice = ctx.ledger.textSlice(Math.floor(Math.random() * 64 * 1024));
    ctx.ledger.attempt(path, slice);
    const sent = ctx.ledger.wire(slice);
    const s = await session(ctx);
    await s.command('TYPE A', [200]);
    const upload = await start(s, `STOR ${path}`);
    upload.io.end(sent);
    await s.expectReply([226], `STOR ${path} (TYPE A) end`);
    await closed(upload.io, `STOR ${path} (TYPE A) data close`);
    ctx.ledger.commit(path, ctx.ledger.bytes(slice));
    const download = await start(s, `RETR ${path}`);
    const back = await readAll(download.io, `RETR ${path} (TYPE A)`);
    await s.expectReply([226], `RETR ${path} (TYPE A) end`);
    await s.command('TYPE I', [200]);
    if (!back.equals(sent)) ctx.integrity('corrupt', `${path}: TYPE A round trip returned ${back.length} bytes for ${sent.length}`);
    await verify(ctx, path, 'STOR in TYPE A');
  },

  'put-reset': (ctx) => resetUpload(ctx, 'I'),

  'put-ascii-reset': (ctx) => resetUpload(ctx, 'A'),

  /**
   * Under TLS: every byte, then a bare TCP FIN below TLS (no close_notify). With
   * `tls.strict_upload_eof` (the default) that is no proper end of file: 426, and the
   * previous version stays.
   */
  async 'put-fin'(ctx) {
    const path = pick(ctx.paths);
    const s = await session(ctx);
    if (!s.secure) throw new SoakError('put-fin needs a TLS session');
    const slice = ctx.ledger.slice(uploadSize());
    ctx.ledger.attempt(path, slice);
    const payload = ctx.ledger.bytes(slice);
    const data = await start(s, `STOR ${path}`);
    await written(data.io, payload);
    data.tcp.end();
    const final = await s.expectReply(null, `STOR ${path} (TLS) after a bare FIN`);
    data.io.destroy();
    if (final.code === 226) {
      ctx.integrity('fin-acknowledged', `${path}: TLS upload of ${payload.length} bytes ended by a bare FIN (no close_notify) was answered "${final.lines.join(' | ')}"`);
      ctx.ledger.commit(path, payload);
    } else if (final.code !== 426) throw new SoakError(`STOR ${path} (TLS) after a bare FIN: expected 426, got ${final.lines.join(' | ')}`);
    await verify(ctx, path, 'a TLS STOR ended without close_notify');
  },

  async 'put-abor'(ctx) {
    const path = pick(ctx.paths);
    const { s, data } = await partOf(ctx, path, ctx.ledger.slice(resetSize()));
    await abort(s, data, `STOR ${path}`);
    await verify(ctx, path, 'an aborted STOR');
  },

  async 'put-stall'(ctx) {
    const path = pick(ctx.paths);
    const s = await session(ctx);
    const slice = ctx.ledger.slice(uploadSize());
    ctx.ledger.attempt(path, slice);
    const payload = ctx.ledger.bytes(slice);
    const { io } = await start(s, `STOR ${path}`);
    io.write(payload.subarray(0, payload.length >> 1));
    await sleep(2000 + Math.random() * 2000);
    io.end(payload.subarray(payload.length >> 1));
    await s.expectReply([226], `stalled STOR ${path} end`);
    await closed(io, `stalled STOR ${path} data close`);
    ctx.ledger.commit(path, payload);
    await verify(ctx, path, 'a stalled STOR');
  },

  async 'get-abor'(ctx) {
    const path = pick(ctx.paths);
    if (!ctx.ledger.current(path)) return OPS.put(ctx);
    const { s, data } = await downloading(ctx, path);
    await abort(s, data, `RETR ${path}`);
  },

  async 'get-stall'(ctx) {
    const path = pick(ctx.paths);
    const current = ctx.ledger.current(path);
    if (!current) return OPS.put(ctx);
    const s = await session(ctx);
    const { io } = await start(s, `RETR ${path}`);
    io.pause();
    await sleep(2000 + Math.random() * 2000);
    const content = await readAll(io, `stalled RETR ${path}`);
    await s.expectReply([226], `stalled RETR ${path} end`);
    const verdict = ctx.ledger.classify(path, content);
    if (verdict !== 'current') ctx.integrity(verdict, `${path}: stalled RETR read ${content.length} bytes, committed ${current.size}`);
  },

  async 'vanish-put'(ctx) {
    const path = pick(ctx.paths);
    const { s, data } = await partOf(ctx, path, ctx.ledger.slice(resetSize()));
    // RST on the data connection: a FIN would be a legitimate end of file in stream mode.
    data.tcp.resetAndDestroy();
    data.io.destroy();
    s.vanish();
    ctx.session = null;
    await verify(ctx, path, 'a client vanished mid-STOR');
  },

  async 'vanish-get'(ctx) {
    const path = pick(ctx.paths);
    if (!ctx.ledger.current(path)) return OPS.put(ctx);
    const { s, data } = await downloading(ctx, path);
    s.vanish();
    data.io.destroy();
    data.tcp.destroy();
    ctx.session = null;
  },
};
