/** Observing whether a FIFO was opened: a process blocked opening its other end. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { sleep, waitFor } from './timing.js';

/** Long enough for a released opener to be scheduled and exit; it normally takes about a millisecond. */
const RELEASE_GRACE_MS = 300;

/**
 * A shell blocked opening one end of a FIFO: the kernel lets it go on (and exit) only
 * once someone opens the other end, so its exit shows whether the server opened it.
 */
class BlockedOpener {
  private readonly child: ChildProcess;
  private readonly exited: Promise<unknown>;

  constructor(fifo: string, end: 'read' | 'write') {
    this.child = spawn('sh', ['-c', end === 'write' ? 'exec 3>"$0"' : 'exec 3<"$0"', fifo], { stdio: 'ignore' });
    this.exited = once(this.child, 'exit');
  }

  /** Until the shell really waits in open() (else an early open of ours would go unnoticed). */
  async waiting(): Promise<void> {
    const wchan = `/proc/${this.child.pid}/wchan`;
    const blocked = await waitFor(() => existsSync(wchan) && readFileSync(wchan, 'utf8') === 'wait_for_partner', 3000);
    assert.ok(blocked, 'the opener never blocked on the FIFO');
  }

  async released(): Promise<boolean> {
    return Promise.race([this.exited.then(() => true), sleep(RELEASE_GRACE_MS).then(() => false)]);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    await this.exited;
  }
}

/** Runs `attempt` while a shell waits on the FIFO, and asserts the shell was never released. */
export async function withBlockedOpener(fifo: string, end: 'read' | 'write', attempt: () => Promise<void>): Promise<void> {
  const opener = new BlockedOpener(fifo, end);
  try {
    await opener.waiting();
    await attempt();
    assert.equal(await opener.released(), false, `the server opened the FIFO (its ${end === 'write' ? 'read' : 'write'} end)`);
  } finally {
    await opener.stop();
  }
}

