import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CommandLineReader,
  MAX_COMMAND_LINE_BYTES,
  parseCommand,
  redactArgument,
  redactCommand,
  type ReadResult,
} from '../../src/protocol/commands.js';

const IAC = 0xff;
const IP = 0xf4; // Telnet Interrupt Process
const DM = 0xf2; // Telnet Data Mark (Synch)
const WILL = 0xfb;
const DO = 0xfd;
const NOP = 0xf1;

function line(text: string): ReadResult {
  return { kind: 'line', bytes: Buffer.from(text, 'utf8') };
}

/** parseCommand of a UTF-8 line, with the argument shown as text. */
function parse(text: string): { verb: string; arg: string } | null {
  const command = parseCommand(Buffer.from(text, 'utf8'));
  return command && { verb: command.verb, arg: command.arg.toString('utf8') };
}

/** Feeds chunks one after another and collects everything the reader reports. */
function feedAll(reader: CommandLineReader, chunks: readonly Buffer[]): ReadResult[] {
  return chunks.flatMap((chunk) => reader.feed(chunk));
}

/** Every way to cut `bytes` into two chunks (including an empty first or last chunk). */
function everySplit(bytes: Buffer): Buffer[][] {
  const splits: Buffer[][] = [];
  for (let at = 0; at <= bytes.length; at++) splits.push([bytes.subarray(0, at), bytes.subarray(at)]);
  return splits;
}

describe('CommandLineReader: line endings', () => {
  test('CRLF ends a line and the CR is not part of the text', () => {
    const reader = new CommandLineReader();
    assert.deepEqual(reader.feed(Buffer.from('USER alice\r\nPASS secret\r\n')), [line('USER alice'), line('PASS secret')]);
  });

  test('a bare LF also ends a line', () => {
    const reader = new CommandLineReader();
    assert.deepEqual(reader.feed(Buffer.from('NOOP\nSYST\n')), [line('NOOP'), line('SYST')]);
  });

  test('an incomplete line is held until its line end arrives', () => {
    const reader = new CommandLineReader();
    assert.deepEqual(reader.feed(Buffer.from('PW')), []);
    assert.deepEqual(reader.feed(Buffer.from('D\r')), [line('PWD')]);
    assert.deepEqual(reader.feed(Buffer.from('\n')), [], 'the LF of a split CRLF adds no line');
  });

  test('a bare CR ends a line (ftplib sends ABOR with its LF as urgent data, which Linux drops)', () => {
    const reader = new CommandLineReader();
    assert.deepEqual(reader.feed(Buffer.from('ABOR\rNOOP\r\n')), [line('ABOR'), line('NOOP')]);
  });

  test('an empty line is reported as an empty text', () => {
    const reader = new CommandLineReader();
    assert.deepEqual(reader.feed(Buffer.from('\r\n\n')), [line(''), line('')]);
  });

  test('every CR ends a line; the LF of a CRLF does not add another', () => {
    const reader = new CommandLineReader();
    assert.deepEqual(reader.feed(Buffer.from('A\rB\r\r\n')), [line('A'), line('B'), line('')]);
  });

  test('a bare IAC before ABOR (its DM went out as urgent data) leaves ABOR intact', () => {
    const reader = new CommandLineReader();
    assert.deepEqual(reader.feed(Buffer.from([0xff, 0xf4, 0xff, ...Buffer.from('ABOR\r\n')])), [line('ABOR')]);
  });

  test('two lines split into two chunks at every byte position give the same lines', () => {
    const bytes = Buffer.from('USER alice\r\nCWD /a b\r\n');
    for (const chunks of everySplit(bytes)) {
      const reader = new CommandLineReader();
      assert.deepEqual(feedAll(reader, chunks), [line('USER alice'), line('CWD /a b')], `split at ${chunks[0]!.length}`);
    }
  });

  test('a line fed one byte at a time', () => {
    const bytes = Buffer.from('RETR file.txt\r\n');
    const reader = new CommandLineReader();
    const chunks = [...bytes].map((byte) => Buffer.from([byte]));
    assert.deepEqual(feedAll(reader, chunks), [line('RETR file.txt')]);
  });

  test('UTF-8 names survive a split in the middle of a multi-byte character', () => {
    const bytes = Buffer.from('RETR 中文文件名.txt\r\n', 'utf8');
    for (const chunks of everySplit(bytes)) {
      const reader = new CommandLineReader();
      assert.deepEqual(feedAll(reader, chunks), [line('RETR 中文文件名.txt')], `split at ${chunks[0]!.length}`);
    }
    // Three chunks, each cutting a character in two.
    const reader = new CommandLineReader();
    const chunks = [bytes.subarray(0, 6), bytes.subarray(6, 10), bytes.subarray(10)];
    assert.deepEqual(feedAll(reader, chunks), [line('RETR 中文文件名.txt')]);
  });
});

describe('CommandLineReader: Telnet', () => {
  test('IAC IP IAC DM before ABOR is stripped', () => {
    const reader = new CommandLineReader();
    const bytes = Buffer.concat([Buffer.from([IAC, IP, IAC, DM]), Buffer.from('ABOR\r\n')]);
    assert.deepEqual(reader.feed(bytes), [line('ABOR')]);
  });

  test('IAC IP IAC DM ABOR split at every byte position', () => {
    const bytes = Buffer.concat([Buffer.from([IAC, IP, IAC, DM]), Buffer.from('ABOR\r\n')]);
    for (const chunks of everySplit(bytes)) {
      const reader = new CommandLineReader();
      assert.deepEqual(feedAll(reader, chunks), [line('ABOR')], `split at ${chunks[0]!.length}`);
    }
  });

  test('IAC IAC is an escaped 0xFF data byte, unlike IAC NOP which is dropped', () => {
    const escaped = new CommandLineReader().feed(Buffer.from([0x41, IAC, IAC, 0x42, 0x0a]));
    assert.deepEqual(escaped, [{ kind: 'line', bytes: Buffer.from([0x41, IAC, 0x42]) }]);
    const command = new CommandLineReader().feed(Buffer.from([0x41, IAC, NOP, 0x42, 0x0a]));
    assert.deepEqual(command, [line('AB')]);
  });

  test('IAC IAC split between chunks is still one data byte', () => {
    const reader = new CommandLineReader();
    assert.deepEqual(reader.feed(Buffer.from([0x41, IAC])), []);
    assert.deepEqual(reader.feed(Buffer.from([IAC, 0x42, 0x0a])), [{ kind: 'line', bytes: Buffer.from([0x41, IAC, 0x42]) }]);
  });

  test('IAC WILL <option> and IAC DO <option> are dropped with their option byte', () => {
    // The option byte 0x41 ('A') must not leak into the line.
    const bytes = Buffer.concat([
      Buffer.from([IAC, WILL, 0x41]),
      Buffer.from('NO'),
      Buffer.from([IAC, DO, 0x0a]), // option byte LF must not end the line
      Buffer.from('OP\r\n'),
    ]);
    for (const chunks of everySplit(bytes)) {
      const reader = new CommandLineReader();
      assert.deepEqual(feedAll(reader, chunks), [line('NOOP')], `split at ${chunks[0]!.length}`);
    }
  });

  test('IAC WILL option sequence fed one byte per chunk', () => {
    const bytes = Buffer.concat([Buffer.from([IAC, WILL, 0x01, IAC, DO, 0x03]), Buffer.from('SYST\r\n')]);
    const reader = new CommandLineReader();
    assert.deepEqual(feedAll(reader, [...bytes].map((byte) => Buffer.from([byte]))), [line('SYST')]);
  });
});

describe('CommandLineReader: overlong lines', () => {
  test('the default limit is 8192 bytes', () => {
    assert.equal(MAX_COMMAND_LINE_BYTES, 8192);
    const reader = new CommandLineReader();
    const ok = 'X'.repeat(8192);
    assert.deepEqual(reader.feed(Buffer.from(`${ok}\n`)), [line(ok)]);
    assert.deepEqual(reader.feed(Buffer.from(`${'X'.repeat(8193)}\r\n`)), [{ kind: 'too-long' }]);
  });

  test('a line at the limit is accepted, one byte over is too long', () => {
    const reader = new CommandLineReader(8);
    assert.deepEqual(reader.feed(Buffer.from('ABCDEFGH\n')), [line('ABCDEFGH')]);
    assert.deepEqual(reader.feed(Buffer.from('ABCDEFG\r\n')), [line('ABCDEFG')]);
    assert.deepEqual(reader.feed(Buffer.from('ABCDEFGHI\n')), [{ kind: 'too-long' }]);
  });

  test('an overlong line gives exactly one too-long, and the next line parses normally', () => {
    const reader = new CommandLineReader(16);
    const results = [
      ...reader.feed(Buffer.from('STOR ' + 'x'.repeat(40))),
      ...reader.feed(Buffer.from('y'.repeat(100))),
      ...reader.feed(Buffer.from('z'.repeat(10) + '\r\nNOOP\r\n')),
    ];
    assert.deepEqual(results, [{ kind: 'too-long' }, line('NOOP')]);
  });

  test('overlong line followed by a normal one, split at every byte position', () => {
    const bytes = Buffer.from(`${'A'.repeat(20)}\r\nPWD\r\n`);
    for (const chunks of everySplit(bytes)) {
      const reader = new CommandLineReader(10);
      assert.deepEqual(feedAll(reader, chunks), [{ kind: 'too-long' }, line('PWD')], `split at ${chunks[0]!.length}`);
    }
  });

  test('a line owns memory of about its own size, not the limit nor a shared pool (an idle session holds none)', () => {
    const reader = new CommandLineReader();
    const [user] = reader.feed(Buffer.from('USER anonymous\r\n'));
    assert.ok(user?.kind === 'line');
    assert.equal(user.bytes.toString(), 'USER anonymous');
    assert.ok(user.bytes.buffer.byteLength <= 256, `a ${user.bytes.buffer.byteLength}-byte buffer for a 14-byte line`);
    const [path] = reader.feed(Buffer.from(`RNFR /${'d'.repeat(300)}\r\n`));
    assert.ok(path?.kind === 'line');
    assert.equal(path.bytes.length, 306);
    assert.ok(path.bytes.buffer.byteLength <= 2 * 306, `a ${path.bytes.buffer.byteLength}-byte buffer for a 306-byte line`);
    assert.notEqual(path.bytes.buffer, user.bytes.buffer, 'each line has its own buffer');
  });

  test('Telnet bytes do not count toward the limit', () => {
    const reader = new CommandLineReader(5);
    const bytes = Buffer.concat([Buffer.from([IAC, IP, IAC, DM, IAC, WILL, 1]), Buffer.from('ABOR\r\n')]);
    assert.deepEqual(reader.feed(bytes), [line('ABOR')]);
    assert.deepEqual(reader.feed(Buffer.from('ABORTS\n')), [{ kind: 'too-long' }]);
  });
});

describe('CommandLineReader: property', () => {
  test('lines without CR, LF or 0xFF, joined with CRLF and cut anywhere, come back identical', () => {
    // Any Unicode text without CR or LF; its UTF-8 form never contains a 0xFF byte.
    const lineArb = fc.string({ unit: 'binary', maxLength: 40 }).filter((text) => !/[\r\n]/.test(text));
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 10 }), (lines, cuts) => {
        const bytes = Buffer.from(lines.map((text) => `${text}\r\n`).join(''), 'utf8');
        const positions = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let start = 0;
        for (const position of positions) {
          chunks.push(bytes.subarray(start, position));
          start = position;
        }
        chunks.push(bytes.subarray(start));
        const reader = new CommandLineReader();
        assert.deepEqual(feedAll(reader, chunks), lines.map(line));
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseCommand', () => {
  test('the verb is upper-cased and the argument follows the first space', () => {
    assert.deepEqual(parse('retr file.txt'), { verb: 'RETR', arg: 'file.txt' });
    assert.deepEqual(parse('Cwd /a'), { verb: 'CWD', arg: '/a' });
  });

  test('a verb alone has an empty argument', () => {
    assert.deepEqual(parse('PWD'), { verb: 'PWD', arg: '' });
    assert.deepEqual(parse('NOOP '), { verb: 'NOOP', arg: '' });
  });

  test('the argument is kept verbatim: leading and trailing spaces, quotes, inner spaces', () => {
    assert.deepEqual(parse('STOR  leading.txt'), { verb: 'STOR', arg: ' leading.txt' });
    assert.deepEqual(parse('STOR trailing.txt  '), { verb: 'STOR', arg: 'trailing.txt  ' });
    assert.deepEqual(parse('MKD "quoted dir"'), { verb: 'MKD', arg: '"quoted dir"' });
    assert.deepEqual(parse('RETR a  b\tc'), { verb: 'RETR', arg: 'a  b\tc' });
    assert.deepEqual(parse('RETR 中文文件名.txt'), { verb: 'RETR', arg: '中文文件名.txt' });
  });

  test('the argument stays bytes, whatever charset they are in (here GBK 中文)', () => {
    const gbk = Buffer.from([0xd6, 0xd0, 0xce, 0xc4]);
    assert.deepEqual(parseCommand(Buffer.concat([Buffer.from('RETR '), gbk])), { verb: 'RETR', arg: gbk });
  });

  test('verbs that are not 3-4 ASCII letters (or XMD5, XSHA1, XSHA256) are rejected', () => {
    for (const bad of ['', ' USER x', 'US x', 'USERS x', 'US3R x', 'RETR\tx', 'ÜSER x', '1234', 'A-B', '\u0000NOOP', 'XSHA2 x', 'XSHA2561 x']) {
      assert.equal(parse(bad), null, JSON.stringify(bad));
    }
  });

  test('three- and four-letter verbs are accepted', () => {
    assert.deepEqual(parse('mkd x'), { verb: 'MKD', arg: 'x' });
    assert.deepEqual(parse('xmkd x'), { verb: 'XMKD', arg: 'x' });
    assert.deepEqual(parse('xsha256 x'), { verb: 'XSHA256', arg: 'x' });
    assert.deepEqual(parse('XSHA1 x'), { verb: 'XSHA1', arg: 'x' });
    assert.deepEqual(parse('xmd5 x'), { verb: 'XMD5', arg: 'x' });
  });
});

describe('redactArgument', () => {
  test('PASS and ACCT arguments are hidden', () => {
    assert.equal(redactArgument('PASS', 'hunter2'), '****');
    assert.equal(redactArgument('ACCT', 'acct-secret'), '****');
  });

  test('other arguments are shown verbatim', () => {
    assert.equal(redactArgument('USER', 'alice'), 'alice');
    assert.equal(redactArgument('RETR', ' a b '), ' a b ');
  });

  test('a trace shows the secret the way ftp -d does', () => {
    assert.equal(redactArgument('PASS', 'hunter2', 'trace'), 'XXXX');
    assert.equal(redactArgument('USER', 'alice', 'trace'), 'alice');
  });
});

describe('redactCommand', () => {
  test('hides the argument of PASS and ACCT, whatever the case of the verb', () => {
    assert.equal(redactCommand('PASS hunter2'), 'PASS ****');
    assert.equal(redactCommand('pass hunter2 with spaces'), 'PASS ****');
    assert.equal(redactCommand('ACCT acct-secret'), 'ACCT ****');
    assert.equal(redactCommand('PASS hunter2', 'trace'), 'PASS XXXX');
    assert.equal(redactCommand('PASS', 'trace'), 'PASS XXXX');
  });

  test('leaves every other line as it is', () => {
    assert.equal(redactCommand('USER alice'), 'USER alice');
    assert.equal(redactCommand('RETR PASS word.txt'), 'RETR PASS word.txt');
    assert.equal(redactCommand('PASSX y', 'trace'), 'PASSX y');
  });
});
