/**
 * FtpServer as one of several workers, with a gate standing in for the primary: a
 * connection waits for the gate's answer before its session starts (and an implicit
 * TLS ClientHello sent meanwhile is not lost), a refusal is a 421 naming the reason, and
 * every place taken is given back, also by a connection that left while it waited.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorCode } from '../../src/errors.js';
import type { ConnectionGate } from '../../src/server/connection-gate.js';
import type { WorkerSharing } from '../../src/server/server.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/timing.js';
import { connectSocket } from './support.js';

/** Answers every enter after `delayMs` with `answer`; counts the places held. */
class SlowGate implements ConnectionGate {
  held = 0;
  entered = 0;
  answer: ErrorCode | null = null;
  constructor(private readonly delayMs: number) {}

  async enter(): Promise<ErrorCode | null> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.answer === null) {
      this.held++;
      this.entered++;
    }
    return this.answer;
  }

  leave(): void {
    this.held--;
  }
}

function sharing(gate: ConnectionGate): WorkerSharing {
  return {
    gate,
    bans: { start: async () => undefined, close: async () => undefined, report: () => undefined, forgive: () => undefined },
    userSessions: { hold: async () => () => undefined },
    metricsScraped: false,
    admin: { serve: () => undefined, close: () => undefined },
  };
}

test('a worker waits for the gate: implicit TLS and plain sessions start after it, a refusal is 421, places go back once', async () => {
  const gate = new SlowGate(300);
  const server = await startServer({ tls: { mode: 'optional' } }, { tls: true, worker: sharing(gate) });
  try {
    // The ClientHello arrives while the gate thinks: the TLS session must still see it.
    const implicit = await FtpConnection.connectImplicit(server.host, server.implicitPort!, { rejectUnauthorized: false });
    assert.equal(implicit.greeting.code, 220);
    const plain = await FtpConnection.connect(server.host, server.port);
    assert.equal(plain.greeting.code, 220);
    assert.equal(gate.held, 2);
    await implicit.quit();
    await plain.quit();
    assert.ok(await waitFor(() => gate.held === 0, 5000), `${gate.held} places still held`);

    // Gone before the answer: its session finds it gone and gives the place back.
    const impatient = await connectSocket(server.host, server.port);
    impatient.destroy();
    // Past the gate's answer: it was given a place, and that went back.
    assert.ok(await waitFor(() => gate.entered === 3 && gate.held === 0, 5000), `entered ${gate.entered}, held ${gate.held}`);
    assert.equal(gate.entered, 3);
    assert.equal(gate.held, 0, 'a place stays held by a connection that left while waiting');
    assert.equal(server.server.sessionCount, 0);

    gate.answer = 'FERRY_ERR_TOO_MANY_PER_ADDRESS';
    const refused = await FtpConnection.connect(server.host, server.port);
    assert.equal(refused.greeting.code, 421);
    assert.match(refused.greeting.text, /Too many connections from your address/);
    refused.close();
    assert.equal(gate.held, 0);
  } finally {
    await server.stop();
  }
});
