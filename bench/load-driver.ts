/**
 * The load client for the concurrent workloads, run as its own process so its CPU is
 * measured apart from the server's. A lean FTP session (no tracing, no queueing) keeps
 * the client from being the bottleneck. Every loop is bounded by a deadline.
 *
 *   node dist/bench/load-driver.js '{"workload":"many_small","host":"127.0.0.1","port":2121,...}'
 *
 * Prints one JSON line with the result (and, for idle_sessions, a "ready" line first,
 * then waits for "close" on stdin).
 */
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

interface DriverArgs {
  workload: 'many_small' | 'login_rate' | 'idle_sessions';
  host: string;
  port: number;
  user: string;
  password: string;
  sessions: number;
  durationMs: number;
  file?: string;
  /** idle_sessions: session counts to stop at, measuring at each. */
  steps?: number[];
}

/**
 * A connection the kernel completed but the server never accepted (its listen backlog
 * overflowed; vsftpd's is 32) never gets a greeting: it is dropped after this long.
 */
const REPLY_TIMEOUT_MS = 15_000;

class LeanSession {
  private text = '';
  private waiter: ((reply: { code: number; text: string }) => void) | null = null;
  private failed: ((error: Error) => void) | null = null;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => {
      this.text += chunk;
      this.deliver();
    });
    const fail = (error: Error) => this.failed?.(error);
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('closed')));
  }

  static async open(host: string, port: number): Promise<LeanSession> {
    const socket = connect({ host, port });
    await once(socket, 'connect');
    const session = new LeanSession(socket);
    const greeting = await session.reply();
    if (greeting.code !== 220) throw new Error(`greeting ${greeting.code}`);
    return session;
  }

  private deliver(): void {
    if (!this.waiter) return;
    // A reply is complete at a line "NNN text" (a multi-line reply ends with one too).
    const match = /(?:^|\n)(\d{3}) ([^\r\n]*)\r?\n/.exec(this.text);
    if (!match) return;
    this.text = this.text.slice(match.index + match[0].length);
    const waiter = this.waiter;
    this.waiter = null;
    this.failed = null;
    waiter({ code: Number(match[1]), text: match[2]! });
  }

  /** The next reply; a server that stays silent for REPLY_TIMEOUT_MS counts as an error. */
  reply(): Promise<{ code: number; text: string }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        this.socket.destroy();
        reject(new Error('reply timeout'));
      }, REPLY_TIMEOUT_MS);
      this.waiter = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      this.failed = (error) => {
        clearTimeout(timer);
        reject(error);
      };
      this.deliver();
    });
  }

  async command(line: string): Promise<{ code: number; text: string }> {
    this.socket.write(line + '\r\n');
    return this.reply();
  }

  async login(user: string, password: string): Promise<void> {
    const u = await this.command(`USER ${user}`);
    if (u.code !== 331) throw new Error(`USER ${u.code}`);
    const p = await this.command(`PASS ${password}`);
    if (p.code !== 230) throw new Error(`PASS ${p.code} ${p.text}`);
  }

  /** One PASV + RETR, returning the bytes received. */
  async retrieve(file: string, host: string): Promise<number> {
    const pasv = await this.command('PASV');
    const m = /(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(pasv.text);
    if (pasv.code !== 227 || !m) throw new Error(`PASV ${pasv.code}`);
    const data = connect({ host, port: Number(m[5]) * 256 + Number(m[6]) });
    let bytes = 0;
    data.on('data', (chunk: Buffer) => (bytes += chunk.length));
    const closed = once(data, 'close');
    data.on('error', () => undefined);
    const opening = await this.command(`RETR ${file}`);
    if (opening.code !== 150 && opening.code !== 125) {
      data.destroy();
      throw new Error(`RETR ${opening.code}`);
    }
    const done = await this.reply();
    await closed;
    if (done.code !== 226) throw new Error(`RETR end ${done.code}`);
    return bytes;
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Opens and logs in `count` sessions, 25 at a time (more at once overflows vsftpd's listen
 * backlog of 32), until `deadline`. Returns the sessions and how many failed.
 */
async function openSessions(args: DriverArgs, count: number, deadline: number): Promise<{ sessions: LeanSession[]; failed: number }> {
  const sessions: LeanSession[] = [];
  let failed = 0;
  const batch = 25;
  for (let i = 0; i < count && Date.now() < deadline; i += batch) {
    const opened = await Promise.allSettled(
      Array.from({ length: Math.min(batch, count - i) }, async () => {
        const s = await LeanSession.open(args.host, args.port);
        await s.login(args.user, args.password);
        return s;
      }),
    );
    for (const result of opened) {
      if (result.status === 'fulfilled') sessions.push(result.value);
      else failed++;
    }
  }
  return { sessions, failed };
}

async function manySmall(args: DriverArgs): Promise<Record<string, number>> {
  let transfers = 0;
  let errors = 0;
  let bytes = 0;
  const opened = await openSessions(args, args.sessions, Date.now() + 120_000);
  const sessions = opened.sessions;
  for (const s of sessions) await s.command('TYPE I');
  // The measured phase starts once every session is logged in.
  const started = Date.now();
  const deadline = started + args.durationMs;
  await Promise.all(
    sessions.map(async (s) => {
      while (Date.now() < deadline) {
        try {
          const received = await s.retrieve(args.file!, args.host);
          bytes += received;
          transfers++;
        } catch {
          errors++;
          if (errors > 10_000) return;
        }
      }
      s.close();
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  return { transfers, errors, loginFailures: opened.failed, bytes, seconds, transfersPerSecond: transfers / seconds };
}

async function loginRate(args: DriverArgs): Promise<Record<string, number>> {
  const started = Date.now();
  const deadline = started + args.durationMs;
  let logins = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: args.sessions }, async () => {
      while (Date.now() < deadline) {
        try {
          const s = await LeanSession.open(args.host, args.port);
          await s.login(args.user, args.password);
          await s.command('QUIT');
          s.close();
          logins++;
        } catch {
          errors++;
          if (errors > 10_000) return;
        }
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  return { logins, errors, seconds, loginsPerSecond: logins / seconds };
}

/**
 * Opens sessions in steps (e.g. 1,000 then 10,000), reporting "ready" after each and
 * waiting for "next" on stdin, so the caller can measure the server at both sizes: the
 * difference divided by the sessions added is the memory per session, free of the
 * server's baseline and of garbage collected in between.
 */
async function idleSessions(args: DriverArgs): Promise<Record<string, number>> {
  const deadline = Date.now() + args.durationMs;
  const sessions: LeanSession[] = [];
  let failed = 0;
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  for (const target of args.steps ?? [args.sessions]) {
    const opened = await openSessions(args, target - sessions.length, deadline);
    sessions.push(...opened.sessions);
    failed += opened.failed;
    process.stdout.write(JSON.stringify({ ready: true, sessions: sessions.length, failed }) + '\n');
    await lines.next();
  }
  for (const s of sessions) s.close();
  return { sessions: sessions.length, failed };
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as DriverArgs;
  const cpuBefore = process.cpuUsage();
  const result =
    args.workload === 'many_small' ? await manySmall(args) : args.workload === 'login_rate' ? await loginRate(args) : await idleSessions(args);
  const cpu = process.cpuUsage(cpuBefore);
  process.stdout.write(JSON.stringify({ ...result, clientCpuSeconds: (cpu.user + cpu.system) / 1e6 }) + '\n');
  process.exit(0);
}

void main().catch((error: unknown) => {
  process.stdout.write(JSON.stringify({ error: (error as Error).message }) + '\n');
  process.exit(1);
});
