import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  asIPv4,
  canonicalAddress,
  encodeEprt,
  encodeHostPort,
  formatEpsvPort,
  isUnroutable,
  parseEprt,
  parseEpsvReply,
  parseHostPort,
  parsePasvReply,
  parsePortRange,
  sameAddress,
} from '../../src/protocol/address.js';

describe('encodeHostPort / parseHostPort', () => {
  test('the RFC example: 192,168,150,90,195,149 is port 50069', () => {
    assert.equal(encodeHostPort('192.168.150.90', 50069), '192,168,150,90,195,149');
    assert.deepEqual(parseHostPort('192,168,150,90,195,149'), { host: '192.168.150.90', port: 50069 });
  });

  test('port bytes: high byte times 256 plus low byte', () => {
    assert.equal(encodeHostPort('127.0.0.1', 21), '127,0,0,1,0,21');
    assert.equal(encodeHostPort('127.0.0.1', 256), '127,0,0,1,1,0');
    assert.equal(encodeHostPort('10.0.0.1', 65535), '10,0,0,1,255,255');
    assert.deepEqual(parseHostPort('10,0,0,1,255,255'), { host: '10.0.0.1', port: 65535 });
    assert.deepEqual(parseHostPort('10,0,0,1,0,1'), { host: '10.0.0.1', port: 1 });
  });

  test('surrounding and inner blanks are tolerated', () => {
    assert.deepEqual(parseHostPort(' 127, 0, 0, 1, 4, 1 '), { host: '127.0.0.1', port: 1025 });
  });

  test('round trip over every IPv4 address and port 1..65535', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 1, max: 65535 }), (host, port) => {
        assert.deepEqual(parseHostPort(encodeHostPort(host, port)), { host, port });
      }),
      { numRuns: 2000 },
    );
  });

  test('rejects malformed arguments', () => {
    const bad = [
      '', // empty
      '192,168,150,90,195', // five numbers
      '192,168,150,90,195,149,1', // seven numbers
      '256,168,150,90,195,149', // host byte over 255
      '192,168,150,90,256,149', // port byte over 255
      '192,168,150,90,195,256',
      '-1,168,150,90,195,149', // negative
      '192,168,150,90,-1,149',
      '127,0,0,1,0,0', // port 0
      '127,0,0,1,,21', // empty field
      'a,b,c,d,e,f',
      '127.0.0.1,0,21',
      '1000,0,0,1,0,21',
      '127,0,0,1,0,2.1',
    ];
    for (const arg of bad) assert.equal(parseHostPort(arg), null, JSON.stringify(arg));
  });
});

describe('parseEprt', () => {
  test('IPv4 with the usual | delimiter', () => {
    assert.deepEqual(parseEprt('|1|127.0.0.1|6275|'), { family: 4, host: '127.0.0.1', port: 6275 });
  });

  test('IPv6', () => {
    assert.deepEqual(parseEprt('|2|::1|6275|'), { family: 6, host: '::1', port: 6275 });
    assert.deepEqual(parseEprt('|2|2001:db8::1|65535|'), { family: 6, host: '2001:db8::1', port: 65535 });
  });

  test('any printable delimiter is allowed', () => {
    assert.deepEqual(parseEprt('!1!10.0.0.2!21!'), { family: 4, host: '10.0.0.2', port: 21 });
    assert.deepEqual(parseEprt('#2#fe80::1#1#'), { family: 6, host: 'fe80::1', port: 1 });
  });

  test('an unsupported address family asks for a 522', () => {
    assert.deepEqual(parseEprt('|3|127.0.0.1|6275|'), { error: 'unsupported-family' });
    assert.deepEqual(parseEprt('|99|whatever|21|'), { error: 'unsupported-family' });
  });

  test('malformed arguments are null', () => {
    const bad = [
      '',
      '|1|127.0.0.1|6275', // missing trailing delimiter
      '1|127.0.0.1|6275|', // missing leading delimiter
      '|1|127.0.0.1|6275|x', // trailing junk
      '|1|127.0.0.1|0|', // port 0
      '|1|127.0.0.1|65536|', // port too big
      '|1|127.0.0.1||', // no port
      '|1|127.0.0.1|-5|',
      '|1|127.0.0.1|62 75|',
      '|1|::1|6275|', // family 1 with an IPv6 address
      '|2|127.0.0.1|6275|', // family 2 with an IPv4 address
      '|1|300.0.0.1|6275|',
      '|1|example.com|21|',
      '||127.0.0.1|6275|', // empty family
      '|x|127.0.0.1|6275|', // non-numeric family
      ' |1|127.0.0.1|6275|', // space is not a printable delimiter
      '\u00a71\u00a7127.0.0.1\u00a76275\u00a7', // non-ASCII delimiter
    ];
    for (const arg of bad) assert.equal(parseEprt(arg), null, JSON.stringify(arg));
  });

  test('encodeEprt produces what parseEprt accepts', () => {
    assert.equal(encodeEprt('127.0.0.1', 50069), '|1|127.0.0.1|50069|');
    assert.equal(encodeEprt('::1', 50069), '|2|::1|50069|');
    assert.deepEqual(parseEprt(encodeEprt('::1', 50069)), { family: 6, host: '::1', port: 50069 });
  });
});

describe('EPSV', () => {
  test('formatEpsvPort', () => {
    assert.equal(formatEpsvPort(50069), '(|||50069|)');
  });

  test('parseEpsvReply on real 229 texts', () => {
    assert.equal(parseEpsvReply('Entering Extended Passive Mode (|||50069|)'), 50069);
    assert.equal(parseEpsvReply('229 Entering Extended Passive Mode (|||6446|).'), 6446);
    assert.equal(parseEpsvReply('Entering Extended Passive Mode (!!!1!)'), 1);
  });

  test('parseEpsvReply rejects bad texts', () => {
    assert.equal(parseEpsvReply('Entering Extended Passive Mode'), null);
    assert.equal(parseEpsvReply('(|||0|)'), null);
    assert.equal(parseEpsvReply('(|||65536|)'), null);
    assert.equal(parseEpsvReply('(||50069|)'), null);
    assert.equal(parseEpsvReply('(|!|50069|)'), null);
  });

  test('round trip for every port', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), (port) => {
        assert.equal(parseEpsvReply(`Entering Extended Passive Mode ${formatEpsvPort(port)}`), port);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parsePasvReply', () => {
  test('real 227 texts', () => {
    assert.deepEqual(parsePasvReply('Entering Passive Mode (192,168,150,90,195,149).'), { host: '192.168.150.90', port: 50069 });
    assert.deepEqual(parsePasvReply('227 Entering Passive Mode (127,0,0,1,4,1)'), { host: '127.0.0.1', port: 1025 });
    // Some servers omit the parentheses.
    assert.deepEqual(parsePasvReply('227 Entering passive mode =10,0,0,7,200,10'), { host: '10.0.0.7', port: 51210 });
  });

  test('no usable address gives null', () => {
    assert.equal(parsePasvReply('227 Entering Passive Mode'), null);
    assert.equal(parsePasvReply('227 Entering Passive Mode (127,0,0,1,4)'), null);
    assert.equal(parsePasvReply('227 Entering Passive Mode (127,0,0,1,0,0)'), null);
    assert.equal(parsePasvReply('227 Entering Passive Mode (300,0,0,1,4,1)'), null);
  });
});

describe('canonicalAddress / sameAddress / asIPv4', () => {
  test('IPv4-mapped IPv6 becomes plain IPv4', () => {
    assert.equal(canonicalAddress('::ffff:1.2.3.4'), '1.2.3.4');
    assert.equal(canonicalAddress('::FFFF:10.0.0.1'), '10.0.0.1');
  });

  test('IPv6 is lower-cased and its zone is stripped', () => {
    assert.equal(canonicalAddress('2001:DB8::ABCD'), '2001:db8::abcd');
    assert.equal(canonicalAddress('fe80::1%eth0'), 'fe80::1');
    assert.equal(canonicalAddress('FE80::1%2'), 'fe80::1');
  });

  test('plain IPv4 and IPv6 are unchanged', () => {
    assert.equal(canonicalAddress('127.0.0.1'), '127.0.0.1');
    assert.equal(canonicalAddress('::1'), '::1');
  });

  test('sameAddress compares canonical forms', () => {
    assert.equal(sameAddress('::ffff:127.0.0.1', '127.0.0.1'), true);
    assert.equal(sameAddress('FE80::1%eth0', 'fe80::1'), true);
    assert.equal(sameAddress('127.0.0.1', '127.0.0.2'), false);
    assert.equal(sameAddress('::1', '127.0.0.1'), false);
  });

  test('asIPv4', () => {
    assert.equal(asIPv4('127.0.0.1'), '127.0.0.1');
    assert.equal(asIPv4('::ffff:192.168.1.5'), '192.168.1.5');
    assert.equal(asIPv4('::1'), null);
    assert.equal(asIPv4('2001:db8::1'), null);
  });
});

describe('parsePortRange', () => {
  test('valid ranges', () => {
    assert.deepEqual(parsePortRange('50000-50999'), { min: 50000, max: 50999 });
    assert.deepEqual(parsePortRange('2121'), { min: 2121, max: 2121 });
    assert.deepEqual(parsePortRange(' 1 - 65535 '), { min: 1, max: 65535 });
    assert.deepEqual(parsePortRange('7-7'), { min: 7, max: 7 });
  });

  test('invalid ranges are null', () => {
    for (const text of ['', '0', '0-10', '10-5', '1-65536', '65536', 'a-b', '1-2-3', '123456', '-5', '5-', '1,2']) {
      assert.equal(parsePortRange(text), null, JSON.stringify(text));
    }
  });
});

describe('isUnroutable (pure)', () => {
  test('private, loopback, link-local, CGNAT and unspecified IPv4 are unroutable', () => {
    for (const address of ['10.0.0.0', '10.1.2.3', '10.255.255.255', '127.0.0.1', '127.255.0.9', '0.0.0.0', '172.16.0.1', '172.20.5.5', '172.31.255.255', '192.168.0.1', '192.168.255.254', '169.254.1.1', '100.64.0.1', '100.127.255.255']) {
      assert.equal(isUnroutable(address), true, address);
    }
  });

  test('public addresses and the edges just outside the private ranges are routable', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '9.255.255.255', '11.0.0.0', '126.255.255.255', '128.0.0.1', '172.15.255.255', '172.32.0.0', '192.167.1.1', '192.169.0.1', '169.253.0.1', '169.255.0.1', '100.63.255.255', '100.128.0.0', '203.0.113.7']) {
      assert.equal(isUnroutable(address), false, address);
    }
  });
});
