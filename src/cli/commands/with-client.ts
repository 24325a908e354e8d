/** Runs one client command: connect, work, close, and set the exit code scripts rely on. */
import type { FtpClient } from '../../client/client.js';
import { connect, exitCodeFor, parseFtpUrl, type ConnectFlags, type RemoteTarget } from '../remote.js';

export async function withClient(url: string, flags: ConnectFlags, work: (client: FtpClient, target: RemoteTarget) => Promise<void>): Promise<void> {
  let client: FtpClient | undefined;
  try {
    const target = parseFtpUrl(url, { tls: flags.tls });
    client = await connect(target, flags);
    await work(client, target);
    await client.close();
    process.exitCode = 0;
  } catch (error) {
    client?.close().catch(() => undefined);
    process.exitCode = exitCodeFor(error);
  }
}
