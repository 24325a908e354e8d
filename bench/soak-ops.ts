/**
 * The soak's operations. Each runs on one client's own paths (so the expected content of
 * a path is exact), checks every reply, and records what the server may now hold in the
 * ledger. Integrity findings (a reset upload answered 226, a file read back that is not
 * its committed version) go to `integrity`; anything else unexpected throws.
 */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256, type Ledger, type Verdict } from './soak-ledger.js';
import { firstBytes, readAll, SoakError, SoakSession, type DataMode } from './soak-session.js';

export interface OpContext {
  session: SoakSession | null;
  readonly ledger: Ledger;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** This client's paths (in its own folder). */
  readonly paths: readonly string[];
  integrity(kind: string, detail: string): void;
}

export const OP_KINDS = ['put', 'put-ascii', 'put-reset', 'put-abor', 'put-stall', 'get-abor', 'get-stall', 'vanish-put', 'vanish-get'] as const;
export type OpKind = (typeof OP_KINDS)[number];

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const MODES: readonly DataMode[] = ['PASV', 'EPSV', 'PORT'];

function uploadSize(): number {
  const r = Math.random();
  return r < 0.05 ? 0 : r < 0.85 ? 64 * 1024 + Math.floor(Math.random() * 512 * 1024) : Math.floor(Math.random() * 4 * 1024 * 1024);
}

async function session(ctx: OpContext): Promise<SoakSession> {
  ctx.session ??= await SoakSession.open(ctx.port, ctx.user, ctx.password);
  return ctx.session;
}

/** Starts a transfer: data connection, command, 150. */
async function start(s: SoakSession, command: string): Promise<Socket> {
  const mode = pick(MODES);
  const data = await s.prepareData(mode);
  await s.command(command, [150, 125]);
  return data.socket().catch((error: Error) => {
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
  const socket = await data.socket().catch((error: Error) => {
    throw new SoakError(`RETR ${path} (${mode}): ${error.message}`);
  });
  const content = await readAll(socket, `RETR ${path}`);
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

async function put(ctx: OpContext, path: string, payload: Buffer): Promise<void> {
  const s = await session(ctx);
  const socket = await start(s, `STOR ${path}`);
  socket.end(payload);
  await s.expectReply([226], `STOR ${path} end`);
  ctx.ledger.commit(path, payload);
}

/** Sends part of an upload and lets it reach the server. */
async function partOf(ctx: OpContext, path: string): Promise<{ s: SoakSession; socket: Socket; sent: number; size: number }> {
  const s = await session(ctx);
  const slice = ctx.ledger.slice(128 * 1024 + Math.floor(Math.random() * 2 * 1024 * 1024));
  ctx.ledger.attempt(path, slice);
  const payload = ctx.ledger.bytes(slice);
  const socket = await start(s, `STOR ${path}`);
  const sent = 1 + Math.floor(Math.random() * (payload.length - 1));
  socket.write(payload.subarray(0, sent));
  await sleep(50);
  return { s, socket, sent, size: payload.length };
}

/**
 * ABOR mid-transfer: the transfer's 426 and ABOR's 226 (or, when the transfer just
 * finished, its 226 and ABOR's 225/226); then a NOOP must get its 200.
 */
async function abort(s: SoakSession, socket: Socket, what: string): Promise<void> {
  s.send('ABOR');
  await s.expectReply([426, 226, 225], `ABOR of ${what}`);
  socket.destroy();
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
    await put(ctx, path, ctx.ledger.bytes(slice));
    if (Math.random() < 0.5) await verify(ctx, path, 'STOR');
  },

  async 'put-ascii'(ctx) {
    const path = pick(ctx.paths);
    const lines = Array.from({ length: 1 + Math.floor(Math.random() * 2000) }, () => sha256(Buffer.from(String(Math.random()))).slice(0, 1 + Math.floor(Math.random() * 60)));
    const sent = Buffer.from(lines.join('\r\n') + '\r\n');
    const stored = Buffer.from(lines.join('\n') + '\n');
    const s = await session(ctx);
    await s.command('TYPE A', [200]);
    const socket = await start(s, `STOR ${path}`);
    socket.end(sent);
    await s.expectReply([226], `STOR ${path} (TYPE A) end`);
    ctx.ledger.commit(path, stored);
    const data = await start(s, `RETR ${path}`);
    const back = await readAll(data, `RETR ${path} (TYPE A)`);
    await s.expectReply([226], `RETR ${path} (TYPE A) end`);
    await s.command('TYPE I', [200]);
    if (!back.equals(sent)) ctx.integrity('corrupt', `${path}: TYPE A round trip returned ${back.length} bytes for ${sent.length}`);
    await verify(ctx, path, 'STOR in TYPE A');
  },

  async 'put-reset'(ctx) {
    const path = pick(ctx.paths);
    const { s, socket, sent, size } = await partOf(ctx, path);
    socket.resetAndDestroy();
    const final = await s.expectReply(null, `STOR ${path} after a reset`);
    if (final.code === 226) ctx.integrity('reset-acknowledged', `${path}: upload reset after ${sent} of ${size} bytes was answered "${final.lines.join(' | ')}"`);
    // 425: in PORT mode the RST can reach the server before its connect() completed.
    else if (final.code !== 426 && final.code !== 425) throw new SoakError(`STOR ${path} after a reset: expected 426, got ${final.lines.join(' | ')}`);
    await verify(ctx, path, 'a reset STOR');
  },

  async 'put-abor'(ctx) {
    const path = pick(ctx.paths);
    const { s, socket } = await partOf(ctx, path);
    await abort(s, socket, `STOR ${path}`);
    await verify(ctx, path, 'an aborted STOR');
  },

  async 'put-stall'(ctx) {
    const path = pick(ctx.paths);
    const s = await session(ctx);
    const slice = ctx.ledger.slice(uploadSize());
    ctx.ledger.attempt(path, slice);
    const payload = ctx.ledger.bytes(slice);
    const socket = await start(s, `STOR ${path}`);
    socket.write(payload.subarray(0, payload.length >> 1));
    await sleep(2000 + Math.random() * 2000);
    socket.end(payload.subarray(payload.length >> 1));
    await s.expectReply([226], `stalled STOR ${path} end`);
    ctx.ledger.commit(path, payload);
    await verify(ctx, path, 'a stalled STOR');
  },

  async 'get-abor'(ctx) {
    const path = pick(ctx.paths);
    if (!ctx.ledger.current(path)) return OPS.put(ctx);
    const s = await session(ctx);
    const socket = await start(s, `RETR ${path}`);
    await firstBytes(socket);
    await abort(s, socket, `RETR ${path}`);
  },

  async 'get-stall'(ctx) {
    const path = pick(ctx.paths);
    const current = ctx.ledger.current(path);
    if (!current) return OPS.put(ctx);
    const s = await session(ctx);
    const socket = await start(s, `RETR ${path}`);
    socket.pause();
    await sleep(2000 + Math.random() * 2000);
    const content = await readAll(socket, `stalled RETR ${path}`);
    await s.expectReply([226], `stalled RETR ${path} end`);
    const verdict = ctx.ledger.classify(path, content);
    if (verdict !== 'current') ctx.integrity(verdict, `${path}: stalled RETR read ${content.length} bytes, committed ${current.size}`);
  },

  async 'vanish-put'(ctx) {
    const path = pick(ctx.paths);
    const { s, socket } = await partOf(ctx, path);
    // RST on the data connection: a FIN would be a legitimate end of file in stream mode.
    socket.resetAndDestroy();
    s.vanish();
    ctx.session = null;
    await verify(ctx, path, 'a client vanished mid-STOR');
  },

  async 'vanish-get'(ctx) {
    const path = pick(ctx.paths);
    if (!ctx.ledger.current(path)) return OPS.put(ctx);
    const s = await session(ctx);
    const socket = await start(s, `RETR ${path}`);
    await firstBytes(socket);
    s.vanish();
    socket.destroy();
    ctx.session = null;
  },
};
