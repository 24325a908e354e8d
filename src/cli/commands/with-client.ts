/**
 * Runs one client command: connect, work, close, and set the exit code scripts rely on.
 * Ctrl-C aborts the connect or the running transfer (ABOR), prints what was interrupted
 * (the work's Interrupted message, or just "interrupted") and exits 130.
 */
import type { FtpClient } from '../../client/client.js';
import { exitInterrupted, Interrupted, onInterrupt } from '../interrupt.js';
import { connect, exitCodeFor, parseFtpUrl, type ConnectFlags, type RemoteTarget } from '../remote.js';

export async function withClient(url: string, flags: ConnectFlags, work: (client: FtpClient, target: RemoteTarget, signal: AbortSignal) => Promise<void>): Promise<void> {
  const interrupt = onInterrupt();
  let client: FtpClient | undefined;
  try {
    const target = parseFtpUrl(url, { tls: flags.tls });
    client = await connect(target, flags, interrupt.signal);
    await work(client, target, interrupt.signal);
    await client.close();
    process.exitCode = 0;
  } catch (error) {
    client?.close().catch(() => undefined);
    if (interrupt.signal.aborted) {
      process.stderr.write(`ferry: ${error instanceof Interrupted ? error.message : 'interrupted'}\n`);
      exitInterrupted();
    } else {
      process.exitCode = exitCodeFor(error);
    }
  } finally {
    interrupt.dispose();
  }
}
