/**
 * One bash, kept running inside a fresh private network namespace (only `lo`, up), that
 * runs command lines one after another as a user's terminal would: `cd`, `export` and
 * variables carry from line to line. Fixed ports (2121, 2990, the passive range) are free
 * there and loopback is private, so examples that name them run unchanged; `ip netns exec`
 * also gives the shell its own mount namespace, so a bind mount over /etc/hosts (the
 * prelude's job) changes name resolution for it alone.
 *
 * Each line is a file the shell `source`s with its own stdin, stdout and stderr files;
 * the shell reports the exit status (or a background job's PID) on file descriptor 3.
 * Everything started in the namespace is the shell's, so teardown ends every process in
 * it by PID (`ip netns pids`) and deletes the namespace.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { runProcess, type ProcessResult } from './run-process.js';

export interface LineResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface BackgroundJob {
  /** The PID of the background subshell bash forked for the line. */
  pid: number;
  stdout(): string;
  stderr(): string;
}

/** Single quotes for bash. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function ip(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

function readText(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** PID -> parent PID and state of every process (one PID namespace: the namespace's too). */
function processTable(): Map<number, { ppid: number; state: string }> {
  const table = new Map<number, { ppid: number; state: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), { ppid: Number(ppid), state: state! });
    } catch {
      // exited meanwhile
    }
  }
  return table;
}

/** `pid` and every process below it. */
export function processTree(pid: number): number[] {
  const table = processTable();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, { ppid }] of table) if (ppid === tree[i]) tree.push(child);
  }
  return tree.filter((member) => table.has(member));
}

/** The argument vector of a running process ([] once it is gone). */
export function commandLineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return [];
  }
}

/** False for a process that has exited (gone or a zombie nobody has reaped yet). */
export function processRuns(pid: number): boolean {
  const state = processTable().get(pid)?.state;
  return state !== undefined && state !== 'Z';
}

export class NamespaceShell {
  private readonly replies: string[] = [];
  private waiter: (() => void) | null = null;
  private counter = 0;
  private exited = false;
  private output = '';

  private constructor(
    readonly namespace: string,
    private readonly bash: ChildProcess,
    /** Where the per-line files go. */
    private readonly runDir: string,
  ) {
    const status = bash.stdio[3] as Readable;
    status.setEncoding('utf8');
    let partial = '';
    status.on('data', (text: string) => {
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      this.replies.push(...lines);
      this.waiter?.();
    });
    for (const stream of [bash.stdout!, bash.stderr!]) stream.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    bash.once('exit', () => {
      this.exited = true;
      this.waiter?.();
    });
  }

  /**
   * Creates namespace `namespace` (lo up) and starts bash in it in `cwd` with `env`, then
   * runs `prelude` (shell text, e.g. mounts and shell options), which must succeed.
   */
  static async start(options: { namespace: string; runDir: string; cwd: string; env: NodeJS.ProcessEnv; prelude: string }): Promise<NamespaceShell> {
    ip(['netns', 'add', options.namespace]);
    try {
      ip(['-n', options.namespace, 'link', 'set', 'lo', 'up']);
      mkdirSync(options.runDir, { recursive: true });
      const bash = spawn('ip', ['netns', 'exec', options.namespace, 'bash', '--noprofile', '--norc'], {
        cwd: options.cwd,
        env: options.env,
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      });
      const shell = new NamespaceShell(options.namespace, bash, options.runDir);
      const prelude = await shell.run(options.prelude, { timeoutMs: 20_000 });
      if (prelude.code !== 0) throw new Error(`the shell's prelude failed (exit ${prelude.code}): ${prelude.stderr}`);
      return shell;
    } catch (error) {
      await NamespaceShell.removeNamespace(options.namespace);
      throw error;
    }
  }

  /** Sends shell text that answers one line on descriptor 3, and resolves with that line. */
  private async request(text: string, timeoutMs: number, what: string): Promise<string> {
    this.bash.stdin!.write(`${text}\n`);
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.exited) throw new Error(`${what}: the shell exited\n${this.output}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: no answer within ${timeoutMs / 1000} s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
    return this.replies.shift()!;
  }

  /** Files for one line: its text (sourced), stdin, stdout and stderr. */
  private lineFiles(text: string, stdin: string): { script: string; input: string; out: string; err: string } {
    const base = join(this.runDir, String(this.counter++));
    const files = { script: `${base}.sh`, input: `${base}.in`, out: `${base}.out`, err: `${base}.err` };
    writeFileSync(files.script, `${text}\n`);
    writeFileSync(files.input, stdin);
    return files;
  }

  private redirections(files: { script: string; input: string; out: string; err: string }): string {
    return `source ${shellQuote(files.script)} <${shellQuote(files.input)} >${shellQuote(files.out)} 2>${shellQuote(files.err)}`;
  }

  /** Runs `text` in the shell itself (its `cd` and `export` stay) and resolves with its exit status and output. */
  async run(text: string, options: { stdin?: string; timeoutMs?: number } = {}): Promise<LineResult> {
    const files = this.lineFiles(text, options.stdin ?? '');
    const code = await this.request(`${this.redirections(files)}; echo "$?" >&3`, options.timeoutMs ?? 60_000, text);
    return { code: Number(code), stdout: readText(files.out), stderr: readText(files.err) };
  }

  /** Starts `text` as a background job of the shell. */
  async background(text: string): Promise<BackgroundJob> {
    const files = this.lineFiles(text, '');
    const pid = Number(await this.request(`${this.redirections(files)} & echo "$!" >&3`, 10_000, text));
    return { pid, stdout: () => readText(files.out), stderr: () => readText(files.err) };
  }

  /** The exit status of a background job, once it has ended (bash's `wait`). */
  async wait(job: BackgroundJob, timeoutMs: number): Promise<number> {
    return Number(await this.request(`wait ${job.pid}; echo "$?" >&3`, timeoutMs, `wait for job ${job.pid}`));
  }

  /** Runs a program in the namespace, outside the shell (runProcess's rules). */
  exec(file: string, args: readonly string[]): Promise<ProcessResult> {
    return runProcess('ip', ['netns', 'exec', this.namespace, file, ...args], { timeoutMs: 20_000 });
  }

  /** The first line a TCP server in the namespace sends (e.g. an FTP greeting), or "" when none comes within 10 s. */
  async firstLine(host: string, port: number): Promise<string> {
    const script = 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r -t 10 line <&3; printf %s "$line"';
    const result = await this.exec('bash', ['-c', script, 'first-line', host, String(port)]);
    return result.stdout.toString('utf8').trim();
  }

  /** Ends every process in the namespace (all started by this shell) by PID, then deletes the namespace. */
  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => (this.exited ? resolve() : this.bash.once('exit', () => resolve())));
    await NamespaceShell.removeNamespace(this.namespace);
    await exited;
  }

  private static async removeNamespace(namespace: string): Promise<void> {
    for (let round = 0; round < 50; round++) {
      const pids = ip(['netns', 'pids', namespace]).split('\n').filter(Boolean).map(Number);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    ip(['netns', 'delete', namespace]);
  }
}
