import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { CrlfToLf, LfToCrlf } from '../../src/server/data/ascii.js';

/** Pushes chunks through a transform inside a real pipeline; returns the output chunks. */
async function run(transform: Transform, chunks: readonly Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(chunks), transform, sink);
  return out;
}

async function convert(transform: Transform, chunks: readonly Buffer[]): Promise<string> {
  return Buffer.concat(await run(transform, chunks)).toString('latin1');
}

/** Writes chunks straight into a transform (empty ones included) and collects the output. */
async function writeDirect(transform: Transform, chunks: readonly Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  transform.on('data', (chunk: Buffer) => out.push(chunk));
  for (const chunk of chunks) transform.write(chunk);
  transform.end();
  await once(transform, 'end');
  return out;
}

function b(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** `bytes` cut into chunks at the given sorted positions. */
function cut(bytes: Buffer, positions: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  for (const position of positions) {
    chunks.push(bytes.subarray(start, position));
    start = position;
  }
  chunks.push(bytes.subarray(start));
  return chunks.filter((chunk) => chunk.length > 0);
}

describe('LfToCrlf (disk to wire)', () => {
  test('LF becomes CRLF', async () => {
    assert.equal(await convert(new LfToCrlf(), [b('a\nb\n\nc')]), 'a\r\nb\r\n\r\nc');
  });

  test('an existing CRLF is not doubled', async () => {
    assert.equal(await convert(new LfToCrlf(), [b('a\r\nb\nc\r\n')]), 'a\r\nb\r\nc\r\n');
  });

  test('a bare CR is kept as it is', async () => {
    assert.equal(await convert(new LfToCrlf(), [b('a\rb\r')]), 'a\rb\r');
  });

  test('CR at the end of one chunk and LF at the start of the next is one CRLF', async () => {
    assert.equal(await convert(new LfToCrlf(), [b('a\r'), b('\nb')]), 'a\r\nb');
  });

  test('a CR two chunks back does not pair with a later LF', async () => {
    assert.equal(await convert(new LfToCrlf(), [b('a\r'), b('x'), b('\nb')]), 'a\rx\r\nb');
  });

  test('an empty chunk between CR and LF does not break the pair', async () => {
    const out = await writeDirect(new LfToCrlf(), [b('a\r'), Buffer.alloc(0), b('\nb')]);
    assert.equal(Buffer.concat(out).toString('latin1'), 'a\r\nb');
  });

  test('every split position of a mixed text gives the same output', async () => {
    const input = b('one\ntwo\r\nthree\rfour\n\r\n\n');
    const expected = 'one\r\ntwo\r\nthree\rfour\r\n\r\n\r\n';
    for (let at = 0; at <= input.length; at++) {
      assert.equal(await convert(new LfToCrlf(), cut(input, [at])), expected, `split at ${at}`);
    }
  });

  test('a chunk with no LF is passed through as the same Buffer (no copy)', async () => {
    const chunk = b('no line feed here\r');
    const out = await writeDirect(new LfToCrlf(), [chunk]);
    assert.equal(out.length, 1);
    assert.equal(out[0], chunk);
  });

  test('a chunk whose LFs are all already CRLF is also passed through uncopied', async () => {
    const first = b('x\r');
    const second = b('\ny\r\n');
    const out = await writeDirect(new LfToCrlf(), [first, second]);
    assert.equal(out[0], first);
    assert.equal(out[1], second);
  });
});

describe('CrlfToLf (wire to disk)', () => {
  test('CRLF becomes LF', async () => {
    assert.equal(await convert(new CrlfToLf(), [b('a\r\nb\r\n\r\nc')]), 'a\nb\n\nc');
  });

  test('a bare CR is kept, a bare LF is kept', async () => {
    assert.equal(await convert(new CrlfToLf(), [b('a\rb\nc\r\r\n')]), 'a\rb\nc\r\n');
  });

  test('a CR at the very end of the stream is kept', async () => {
    assert.equal(await convert(new CrlfToLf(), [b('a\r')]), 'a\r');
    assert.equal(await convert(new CrlfToLf(), [b('a'), b('\r')]), 'a\r');
  });

  test('CR at the end of one chunk and LF at the start of the next is one LF', async () => {
    assert.equal(await convert(new CrlfToLf(), [b('a\r'), b('\nb')]), 'a\nb');
  });

  test('CR at the end of a chunk followed by a non-LF chunk keeps the CR', async () => {
    assert.equal(await convert(new CrlfToLf(), [b('a\r'), b('b')]), 'a\rb');
    assert.equal(await convert(new CrlfToLf(), [b('a\r'), b('\r'), b('\n')]), 'a\r\n');
  });

  test('an empty chunk between CR and LF does not break the pair', async () => {
    const out = await writeDirect(new CrlfToLf(), [b('a\r'), Buffer.alloc(0), b('\nb')]);
    assert.equal(Buffer.concat(out).toString('latin1'), 'a\nb');
  });

  test('every split position of a mixed text gives the same output', async () => {
    const input = b('one\r\ntwo\nthree\rfour\r\r\n\r\n');
    const expected = 'one\ntwo\nthree\rfour\r\n\n';
    for (let at = 0; at <= input.length; at++) {
      assert.equal(await convert(new CrlfToLf(), cut(input, [at])), expected, `split at ${at}`);
    }
  });

  test('one byte per chunk', async () => {
    const input = b('a\r\n\r\rb\r');
    assert.equal(await convert(new CrlfToLf(), [...input].map((byte) => Buffer.from([byte]))), 'a\n\r\rb\r');
  });

  test('a chunk with no CR is passed through as the same Buffer (no copy)', async () => {
    const chunk = b('plain\ntext\n');
    const out = await writeDirect(new CrlfToLf(), [chunk]);
    assert.equal(out.length, 1);
    assert.equal(out[0], chunk);
  });
});

describe('ASCII round trip: property', () => {
  const chunked = fc
    .tuple(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 8 }))
    .map(([bytes, cuts]) => {
      const data = Buffer.from(bytes.filter((byte) => byte !== 0x0d));
      const positions = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((x, y) => x - y);
      return { data, positions };
    });

  test('for bytes without CR, CrlfToLf(LfToCrlf(x)) == x whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(chunked, fc.array(fc.nat(), { maxLength: 8 }), async ({ data, positions }, wireCuts) => {
        const wire = Buffer.concat(await run(new LfToCrlf(), cut(data, positions)));
        // The wire form has exactly one CR per LF, each right before it.
        const lfCount = data.filter((byte) => byte === 0x0a).length;
        assert.equal(wire.length, data.length + lfCount);
        const wirePositions = [...new Set(wireCuts.map((c) => c % (wire.length + 1)))].sort((x, y) => x - y);
        const back = Buffer.concat(await run(new CrlfToLf(), cut(wire, wirePositions)));
        assert.deepEqual(back, data);
      }),
      { numRuns: 300 },
    );
  });

  test('LfToCrlf output does not depend on the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(0x0d, 0x0a, 0x41), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (bytes, cuts) => {
          const data = Buffer.from(bytes);
          const positions = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((x, y) => x - y);
          const whole = Buffer.concat(await run(new LfToCrlf(), [data].filter((x) => x.length > 0)));
          const pieces = Buffer.concat(await run(new LfToCrlf(), cut(data, positions)));
          assert.deepEqual(pieces, whole);
          // Reference: every LF not already preceded by CR gets one.
          assert.equal(whole.toString('latin1'), data.toString('latin1').replace(/(?<!\r)\n/g, '\r\n'));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('CrlfToLf output does not depend on the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(0x0d, 0x0a, 0x41), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (bytes, cuts) => {
          const data = Buffer.from(bytes);
          const positions = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((x, y) => x - y);
          const whole = Buffer.concat(await run(new CrlfToLf(), [data].filter((x) => x.length > 0)));
          const pieces = Buffer.concat(await run(new CrlfToLf(), cut(data, positions)));
          assert.deepEqual(pieces, whole);
          // Reference: replace every CRLF with LF in one go.
          assert.equal(whole.toString('latin1'), data.toString('latin1').replace(/\r\n/g, '\n'));
        },
      ),
      { numRuns: 300 },
    );
  });
});
