/**
 * For the web admin tests: a Ferry server with the web admin on (a token and an admin
 * user), HTTP requests to it, and a download the client reads slowly so it stays live
 * while the test watches it.
 */
import { truncateSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { hashPassword } from '../../src/auth/password.js';
import { FtpConnection } from './ftp-connection.js';
import { startServer, type TestServer } from './server.js';
import type { SessionView } from '../../src/observability/admin/views.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 'admin-secret';
/** Big enough that a paced reader takes minutes; sparse, so it costs no disk. */
const SLOW_FILE_BYTES = 1024 * 1024 * 1024;

let adminHash: Promise<string> | undefined;

/** A server with the web admin on. */
export async function startAdminServer(overrides: Record<string, unknown> = {}): Promise<TestServer & { base: string }> {
  adminHash ??= hashPassword(ADMIN_PASSWORD);
  const server = await startServer({
    admin: { listen: '127.0.0.1:0', token: ADMIN_TOKEN, user: ADMIN_USER, password: await adminHash },
    ...overrides,
  });
  return Object.assign(server, { base: `http://127.0.0.1:${server.admin!.port}` });
}

/** A request to the admin listener; redirects are returned, not followed. */
export function adminFetch(base: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(base + path, { redirect: 'manual', ...init });
}

export const bearer = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/** Logs in through the form; the cookie to send back ("ferry_admin=…"). */
export async function loginCookie(base: string, user = ADMIN_USER, password = ADMIN_PASSWORD): Promise<string> {
  const response = await adminFetch(base, '/login', { method: 'POST', body: new URLSearchParams({ user, password }) });
  if (response.status !== 303) throw new Error(`login: HTTP ${response.status}`);
  return response.headers.get('set-cookie')!.split(';')[0]!;
}

/** What GET /api/sessions lists: the server's own view type. */
export type SessionJson = SessionView;

export async function apiSessions(base: string): Promise<SessionJson[]> {
  const response = await adminFetch(base, '/api/sessions', { headers: bearer });
  return ((await response.json()) as { sessions: SessionJson[] }).sessions;
}

export interface SlowDownload {
  ftp: FtpConnection;
  data: Socket;
  /** Bytes the client has read so far. */
  received(): number;
}

/**
 * Logs in and starts RETR of a large (sparse) file named `name` in the server
 * root, reading it a little at a time, so the transfer stays live for minutes.
 */
export async function startSlowDownload(server: TestServer, name: string, user: string, password: string): Promise<SlowDownload> {
  writeFileSync(join(server.root, name), '');
  truncateSync(join(server.root, name), SLOW_FILE_BYTES);
  const ftp = await FtpConnection.login(server.host, server.port, user, password);
  await ftp.expect('TYPE I', 200);
  const connect = await ftp.prepareData('EPSV');
  await ftp.expect(`RETR ${name}`, 150);
  const data = await connect();
  let received = 0;
  data.on('data', (chunk: Buffer) => {
    received += chunk.length;
    data.pause();
    setTimeout(() => data.resume(), 20).unref();
  });
  return { ftp, data, received: () => received };
}
