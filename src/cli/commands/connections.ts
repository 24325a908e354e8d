/**
 * The connections of one command with several sources: one per server (scheme, user,
 * host, port), reused by every source there, since URL paths are relative to the login
 * directory and nothing changes directory. A connection that failed is discarded so the
 * next try logs in afresh.
 */
import type { FtpClient } from '../../client/client.js';
import { FtpClientError } from '../../client/errors.js';
import { withDeadline } from '../../util/deadline.js';
import { connect, type ConnectFlags, type RemoteTarget } from '../remote.js';

function serverKey(target: RemoteTarget): string {
  return `${target.secure}|${target.user ?? ''}@${target.host}|${target.port}`;
}

/** Rejects as soon as `signal` aborts (the work itself goes on; closing it is the caller's business). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return withDeadline(work, { signal, onAbort: () => new FtpClientError('aborted', 'interrupted') });
}

export class Connections {
  private readonly clients = new Map<string, Promise<FtpClient>>();

  constructor(
    private readonly flags: ConnectFlags,
    /** Ctrl-C: aborts a connection still being made, and the transfers on every connection. */
    private readonly signal?: AbortSignal,
  ) {}

  /** The open connection to the target's server, or a new one. */
  get(target: RemoteTarget): Promise<FtpClient> {
    const key = serverKey(target);
    let client = this.clients.get(key);
    if (!client) {
      const connecting = connect(target, this.flags, this.signal);
      client = connecting;
      this.clients.set(key, connecting);
      connecting.catch(() => {
        if (this.clients.get(key) === connecting) this.clients.delete(key);
      });
    }
    return this.signal ? untilAborted(client, this.signal) : client;
  }

  /** Closes the target's connection (without waiting) so the next `get` connects again. */
  discard(target: RemoteTarget): void {
    const key = serverKey(target);
    const client = this.clients.get(key);
    this.clients.delete(key);
    client?.then((c) => c.close()).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((client) => client.then((c) => c.close()).catch(() => undefined)));
  }
}
