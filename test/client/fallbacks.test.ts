/**
 * The client against servers that lack features (the scripted fake server): no FEAT, no
 * MLSD behind an advertised MLST, no SIZE, no MDTM, no EPSV or EPRT, no REST, no UTF8,
 * and FTPS servers that refuse PBSZ or PROT. What the client learns is remembered on the
 * connection: a refused command is not sent again.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FtpClient, type FtpClientOptions, type Progress } from '../../src/client/client.js';
import { ALL_BYTES, sha256, sha256File } from '../helpers/data.js';
import { sharedCertificate } from '../helpers/certificate.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { activeHandlers, clientOptions, endData, fakeServer, retrDataFirst, type Handler, type Session } from '../helpers/fake-ftp-server.js';
import { memorySink, recorder, rejectsWith } from './support.js';

/** A FEAT handler listing exactly these features. */
function feat(...features: string[]): Handler {
  return (s) => s.send(['211-Features:', ...features.map((f) => ` ${f}`), '211 End'].join('\r\n'));
}

const noFeat: Handler = (s) => s.send('500 FEAT not understood.');

/** REST remembered per session; RETR sends ALL_BYTES from that offset. */
function resumableRetr(): Record<string, Handler> {
  const offsets = new WeakMap<Session, number>();
  return {
    REST: (s, arg) => {
      offsets.set(s, Number(arg));
      s.send(`350 Restarting at ${arg}.`);
    },
    RETR: async (s) => {
      const data = await s.data();
      s.send('150 Sending.');
      await endData(data, ALL_BYTES.subarray(offsets.get(s) ?? 0));
      offsets.delete(s);
      s.send('226 Sent.');
    },
  };
}

const LISTING = '-rw-r--r--    1 1000     1000         1234 Jan 02  2020 report.pdf\r\ndrwxr-xr-x    2 1000     1000         4096 Jan 02  2020 folder\r\n';

const list: Handler = async (s) => {
  const data = await s.data();
  s.send('150 Here it comes.');
  await endData(data, LISTING);
  s.send('226 Done.');
};

/** The verbs of the commands a session received since `from`. */
function verbsSince(session: Session, from: number): string[] {
  return session.commands.slice(from).map((c) => c.split(' ')[0]!.toUpperCase());
}

function count(session: Session, verb: string): number {
  return verbsSince(session, 0).filter((v) => v === verb).length;
}

async function withFake(handlers: Record<string, Handler>, extra: Partial<FtpClientOptions>, work: (client: FtpClient, session: Session) => Promise<void>): Promise<void> {
  const fake = await fakeServer({ handlers });
  const client = await FtpClient.connect(clientOptions(fake.port, extra));
  try {
    await work(client, fake.sessions[0]!);
  } finally {
    await client.close();
  }
}

/** A local file holding the first `have` bytes of ALL_BYTES (a partial download). */
function partialFile(dir: string, have: number): string {
  const path = join(dir, 'partial.bin');
  writeFileSync(path, ALL_BYTES.subarray(0, have));
  return path;
}

describe('servers without FEAT, MLSD or UTF8', () => {
  test('no FEAT (500): no features, LIST for listings, no OPTS UTF8, and a resume still tries REST', () =>
    withFake({ FEAT: noFeat, LIST: list, ...resumableRetr() }, {}, async (client, session) => {
      assert.equal(client.features.size, 0);
      assert.deepEqual(
        (await client.list()).map((e) => [e.name, e.type]),
        [
          ['report.pdf', 'file'],
          ['folder', 'directory'],
        ],
      );
      assert.equal(count(session, 'MLSD'), 0);
      assert.equal(count(session, 'OPTS'), 0, 'OPTS UTF8 only when FEAT lists UTF8');
      const { sink, data } = memorySink();
      await client.download('file.bin', sink, { startAt: 1000 });
      assert.equal(sha256(data()), sha256(ALL_BYTES.subarray(1000)), 'unknown REST support is tried');
    }));

  test('FEAT without MLST or UTF8: LIST, and no OPTS UTF8', () =>
    withFake({ FEAT: feat('SIZE', 'REST STREAM'), LIST: list }, {}, async (client, session) => {
      assert.equal((await client.list()).length, 2);
      assert.deepEqual([count(session, 'MLSD'), count(session, 'LIST'), count(session, 'OPTS')], [0, 1, 0]);
    }));

  test('MLST advertised but MLSD answered 500: LIST at once, and only LIST from then on', async () => {
    const trace = recorder();
    await withFake({ FEAT: feat('MLST type*;size*;', 'REST STREAM'), MLSD: (s) => s.send('500 MLSD not understood.'), LIST: list }, { trace: trace.trace }, async (client, session) => {
      for (let round = 0; round < 3; round++) assert.deepEqual((await client.list()).map((e) => e.name), ['report.pdf', 'folder'], `round ${round}`);
      assert.deepEqual([count(session, 'MLSD'), count(session, 'LIST')], [1, 3]);
      assert.ok(trace.lines.includes('MLSD refused (500); listing with LIST from now on'), trace.lines.join('\n'));
    });
  });

  test('MLSD answered 550 is not a missing MLSD: not-found, no LIST, MLSD again next time', () =>
    withFake({ FEAT: feat('MLST type*;'), MLSD: (s) => s.send('550 No such directory.'), LIST: list }, {}, async (client, session) => {
      await rejectsWith(client.list('missing'), 'not-found', 550);
      await rejectsWith(client.list('missing'), 'not-found', 550);
      assert.deepEqual([count(session, 'MLSD'), count(session, 'LIST')], [2, 0]);
    }));

  test("a 500 to the data command (dataCommand 'EPSV') is not taken for a missing MLSD", () =>
    withFake({ FEAT: feat('MLST type*;'), LIST: list }, { dataCommand: 'EPSV' }, async (client, session) => {
      const error = await rejectsWith(client.list(), 'reply', 500);
      assert.match(error.message, /^EPSV: 500/);
      assert.deepEqual([count(session, 'MLSD'), count(session, 'LIST')], [0, 0]);
      await rejectsWith(client.list(), 'reply', 500);
      assert.equal(count(session, 'EPSV'), 2);
    }));
});

describe('servers without SIZE or MDTM', () => {
  test('no SIZE: downloads have no total, SIZE is asked once, size() is kind usage with the code', () =>
    withFake({ FEAT: feat('REST STREAM'), RETR: retrDataFirst }, {}, async (client, session) => {
      for (let round = 0; round < 2; round++) {
        const { sink, data } = memorySink();
        const events: Progress[] = [];
        await client.download('file.bin', sink, { onProgress: (p) => events.push(p) });
        assert.equal(sha256(data()), sha256(ALL_BYTES), `round ${round}`);
        assert.ok(events.length > 0 && events.every((p) => p.total === undefined), 'progress without a total');
        assert.equal(events.at(-1)!.bytes, ALL_BYTES.length);
      }
      assert.equal(count(session, 'SIZE'), 1, 'a refused SIZE is not asked again');
      const error = await rejectsWith(client.size('file.bin'), 'usage', 502);
      assert.equal(error.message, "SIZE file.bin: the server does not support SIZE (it answered 502 SIZE not implemented.), so it cannot tell a file's size");
      assert.equal(count(session, 'SIZE'), 1);
    }));

  test('no SIZE: a resume into a partial local file completes it', () =>
    withFake({ FEAT: feat('REST STREAM'), ...resumableRetr() }, {}, async (client) => {
      const work = scratchDir('ferry-client-nosize-');
      try {
        const path = partialFile(work.dir, 5000);
        const events: Progress[] = [];
        await client.download('file.bin', path, { startAt: 5000, onProgress: (p) => events.push(p) });
        assert.equal(sha256File(path), sha256(ALL_BYTES));
        assert.ok(events[0]!.bytes > 5000 && events.every((p) => p.total === undefined));
      } finally {
        work.remove();
      }
    }));

  test('a size() refused with 550 is not-found and SIZE is still asked afterwards', () =>
    withFake({ SIZE: (s, arg) => s.send(arg === 'there' ? '213 42' : '550 No such file.') }, {}, async (client) => {
      await rejectsWith(client.size('missing'), 'not-found', 550);
      assert.equal(await client.size('there'), 42);
    }));

  test('no MDTM: lastModified() is kind usage with the code, and MDTM is not sent again', () =>
    withFake({}, {}, async (client, session) => {
      const error = await rejectsWith(client.lastModified('file.bin'), 'usage', 502);
      assert.match(error.message, /^MDTM file\.bin: the server does not support MDTM \(it answered 502 MDTM not implemented\.\), so it cannot tell a file's modification time$/);
      await rejectsWith(client.lastModified('other.bin'), 'usage', 502);
      assert.equal(count(session, 'MDTM'), 1);
      assert.equal(await client.pwd(), '/', 'the session is still in step');
    }));
});

describe('servers without EPSV or EPRT', () => {
  test('EPSV refused once (500): later transfers send PASV alone', async () => {
    const trace = recorder();
    await withFake({ RETR: retrDataFirst }, { trace: trace.trace }, async (client, session) => {
      for (let round = 0; round < 3; round++) {
        const { sink, data } = memorySink();
        await client.download('file.bin', sink, { total: ALL_BYTES.length });
        assert.equal(sha256(data()), sha256(ALL_BYTES), `round ${round}`);
      }
      assert.deepEqual([count(session, 'EPSV'), count(session, 'PASV')], [1, 3]);
      assert.equal(trace.lines.filter((l) => l === 'EPSV was refused earlier on this connection (500); sending PASV').length, 2, trace.lines.join('\n'));
    });
  });

  test('EPSV refused with 502 is remembered too; listings and transfers share what was learnt', () =>
    withFake({ EPSV: (s) => s.send('502 EPSV not implemented.'), LIST: list, RETR: retrDataFirst }, {}, async (client, session) => {
      await client.list();
      await client.download('file.bin', memorySink().sink, { total: ALL_BYTES.length });
      assert.deepEqual([count(session, 'EPSV'), count(session, 'PASV')], [1, 2]);
    }));

  test("dataCommand 'EPSV' sends EPSV every time and never PASV", () =>
    withFake({ RETR: retrDataFirst }, { dataCommand: 'EPSV' }, async (client, session) => {
      await rejectsWith(client.download('file.bin', memorySink().sink, { total: 1 }), 'reply', 500);
      await rejectsWith(client.download('file.bin', memorySink().sink, { total: 1 }), 'reply', 500);
      assert.deepEqual([count(session, 'EPSV'), count(session, 'PASV')], [2, 0]);
    }));

  test('active mode: EPRT refused once (500): later transfers send PORT alone', async () => {
    const trace = recorder();
    await withFake(activeHandlers, { dataMode: 'active', trace: trace.trace }, async (client, session) => {
      for (let round = 0; round < 2; round++) {
        const { sink, data } = memorySink();
        await client.download('file.bin', sink, { total: ALL_BYTES.length });
        assert.equal(sha256(data()), sha256(ALL_BYTES), `round ${round}`);
      }
      assert.deepEqual([count(session, 'EPRT'), count(session, 'PORT')], [1, 2]);
      assert.ok(trace.lines.includes('EPRT was refused earlier on this connection (500); sending PORT'), trace.lines.join('\n'));
    });
  });

  test("dataCommand 'EPRT' sends EPRT every time and never PORT", () =>
    withFake(activeHandlers, { dataCommand: 'EPRT' }, async (client, session) => {
      await rejectsWith(client.download('file.bin', memorySink().sink, { total: 1 }), 'reply', 500);
      await rejectsWith(client.download('file.bin', memorySink().sink, { total: 1 }), 'reply', 500);
      assert.deepEqual([count(session, 'EPRT'), count(session, 'PORT')], [2, 0]);
    }));
});

describe('servers without REST', () => {
  test('FEAT without REST STREAM: a resume still tries REST (servers forget to list it) and resumes byte-exact', () =>
    withFake({ FEAT: feat('SIZE', 'MDTM'), SIZE: (s) => s.send(`213 ${ALL_BYTES.length}`), ...resumableRetr() }, {}, async (client, session) => {
      const work = scratchDir('ferry-client-norest-');
      try {
        const path = partialFile(work.dir, 5000);
        await client.download('file.bin', path, { startAt: 5000 });
        assert.equal(count(session, 'REST'), 1);
        assert.equal(sha256File(path), sha256(ALL_BYTES));
      } finally {
        work.remove();
      }
    }));

  test('REST refused with 502 (no FEAT): kind usage with the code, no RETR, the local file untouched, not tried again', () =>
    withFake({ FEAT: noFeat, RETR: retrDataFirst }, {}, async (client, session) => {
      const work = scratchDir('ferry-client-norest-');
      try {
        const path = partialFile(work.dir, 5000);
        const error = await rejectsWith(client.download('file.bin', path, { startAt: 5000, total: ALL_BYTES.length }), 'usage', 502);
        assert.match(error.message, /^REST 5000: the server does not support REST \(it answered 502 REST not implemented\.\), so it cannot resume a transfer \(startAt\)$/);
        assert.equal(count(session, 'RETR'), 0, 'no RETR after a refused REST');
        const before = session.commands.length;
        await rejectsWith(client.download('file.bin', path, { startAt: 5000, total: ALL_BYTES.length }), 'usage', 502);
        assert.deepEqual(verbsSince(session, before), [], 'the second resume sends nothing at all');
        assert.equal(sha256File(path), sha256(ALL_BYTES.subarray(0, 5000)), 'the partial file is as it was');
        assert.equal(await client.pwd(), '/', 'the session is still in step');
      } finally {
        work.remove();
      }
    }));
});

describe('FTPS servers that refuse PBSZ or PROT', () => {
  const certificate = sharedCertificate();
  const tls = { key: readFileSync(certificate.key, 'utf8'), cert: certificate.certPem };
  const secure = (port: number) => clientOptions(port, { secure: 'explicit', ca: certificate.certPem });

  test('PBSZ and PROT accepted: the explicit TLS session works (the fake server speaks TLS)', async () => {
    const fake = await fakeServer({ tls });
    const client = await FtpClient.connect(secure(fake.port));
    try {
      assert.equal(await client.pwd(), '/');
    } finally {
      await client.close();
    }
    assert.deepEqual(fake.sessions[0]!.commands.slice(0, 6), ['AUTH TLS', 'USER u', 'PASS p', 'FEAT', 'PBSZ 0', 'PROT P']);
  });

  for (const [command, reply] of [
    ['PBSZ', '500 PBSZ not understood.'],
    ['PROT', '534 Request denied for policy reasons.'],
  ] as const) {
    test(`${command} refused (${reply.slice(0, 3)}): connect fails with kind tls and the reply`, async () => {
      const fake = await fakeServer({ tls, handlers: { [command]: (s: Session) => s.send(reply) } });
      const error = await rejectsWith(FtpClient.connect(secure(fake.port)), 'tls', Number(reply.slice(0, 3)));
      assert.ok(error.message.includes(reply), error.message);
      assert.match(error.message, new RegExp(`^the server refused ${command} ., so data connections cannot be protected: `));
    });
  }
});
