import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatReply, quotePath, Reply } from '../../src/protocol/replies.js';

describe('formatReply', () => {
  test('single line: "NNN text" CRLF', () => {
    assert.equal(formatReply(200, 'Command okay.'), '200 Command okay.\r\n');
    assert.equal(formatReply(Reply.ServiceReady, 'Ferry ready.'), '220 Ferry ready.\r\n');
  });

  test('a one-element array is the single-line form', () => {
    assert.equal(formatReply(230, ['Logged in.']), '230 Logged in.\r\n');
  });

  test('an empty text still gives a well-formed line', () => {
    assert.equal(formatReply(200, ''), '200 \r\n');
    assert.equal(formatReply(200, []), '200 \r\n');
  });

  test('multi-line: NNN-first, indented middle lines, NNN last', () => {
    assert.equal(formatReply(211, ['Features:', 'EPRT', 'End']), '211-Features:\r\n EPRT\r\n211 End\r\n');
    assert.equal(
      formatReply(211, ['Features:', 'EPRT', 'EPSV', 'MDTM', 'End']),
      '211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n211 End\r\n',
    );
  });

  test('two lines: NNN-first then NNN last, nothing in between', () => {
    assert.equal(formatReply(214, ['Help follows.', 'Help OK.']), '214-Help follows.\r\n214 Help OK.\r\n');
  });

  test('a middle line that looks like a final line is indented so it cannot end the reply', () => {
    assert.equal(formatReply(211, ['Status:', '211 fake end', 'End']), '211-Status:\r\n 211 fake end\r\n211 End\r\n');
  });

  test('CR and LF inside the text become spaces', () => {
    assert.equal(formatReply(550, 'a\r\n550 injected\rb\nc'), '550 a  550 injected b c\r\n');
    assert.equal(formatReply(211, ['x\ny', 'p\rq', 'end\r\n']), '211-x y\r\n p q\r\n211 end  \r\n');
  });

  test('Reply codes name the standard numbers', () => {
    assert.equal(Reply.EnteringPassive, 227);
    assert.equal(Reply.EnteringExtendedPassive, 229);
    assert.equal(Reply.PathCreated, 257);
    assert.equal(Reply.FileNotFound, 550);
    assert.equal(Reply.UnsupportedNetworkProtocol, 522);
  });
});

describe('formatReply: property', () => {
  const text = fc.string({ unit: 'binary', maxLength: 30 });
  const textWithBreaks = fc.oneof(text, fc.array(fc.constantFrom('a', ' ', '\r', '\n', '\r\n', '226 ', '-'), { maxLength: 12 }).map((parts) => parts.join('')));

  test('CR/LF in the text can never create an extra line', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.array(textWithBreaks, { maxLength: 6 }), (code, lines) => {
        const out = formatReply(code, lines);
        assert.ok(out.endsWith('\r\n'));
        const body = out.slice(0, -2).split('\r\n');
        const expectedLines = Math.max(1, lines.length);
        assert.equal(body.length, expectedLines);
        for (const part of body) assert.ok(!/[\r\n]/.test(part), JSON.stringify(part));
        // Exactly one final line "NNN ", and it is the last one.
        const finals = body.filter((part) => part.startsWith(`${code} `));
        assert.equal(finals.length, 1);
        assert.ok(body[body.length - 1]!.startsWith(`${code} `));
        if (body.length > 1) assert.ok(body[0]!.startsWith(`${code}-`));
        for (const middle of body.slice(1, -1)) assert.ok(middle.startsWith(' '));
      }),
      { numRuns: 500 },
    );
  });

  test('a single string always gives exactly one line', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), textWithBreaks, (code, message) => {
        const out = formatReply(code, message);
        assert.equal(out.indexOf('\r\n'), out.length - 2);
        assert.equal(out.indexOf('\n'), out.length - 1);
        assert.equal(out, `${code} ${message.replace(/[\r\n]/g, ' ')}\r\n`);
      }),
      { numRuns: 500 },
    );
  });
});

describe('quotePath', () => {
  test('wraps a path in double quotes', () => {
    assert.equal(quotePath('/'), '"/"');
    assert.equal(quotePath('/home/a b'), '"/home/a b"');
  });

  test('embedded quotes are doubled (RFC 959 appendix II)', () => {
    assert.equal(quotePath('/my "dir"'), '"/my ""dir"""');
    assert.equal(quotePath('"'), '""""');
  });

  test('in a 257 reply the quoted path survives intact', () => {
    assert.equal(formatReply(257, `${quotePath('/say "hi"')} created.`), '257 "/say ""hi""" created.\r\n');
  });
});
