/** PROXY protocol header parsing (HAProxy's proxy-protocol.txt, v1 and v2). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { looksLikeProxyHeader, parseProxyHeader, PROXY_V2_SIGNATURE } from '../../src/protocol/proxy-header.js';
import { proxyV1, proxyV2 } from '../helpers/proxy-header.js';

const client4 = { source: '198.51.100.7', sourcePort: 40123, destination: '203.0.113.10', destinationPort: 21 };
const client6 = { source: '2001:db8::7', sourcePort: 40123, destination: '2001:db8:0:1::10', destinationPort: 21 };

describe('PROXY protocol version 1', () => {
  test('TCP4 and TCP6 lines give both endpoints and the header length; what follows is not consumed', () => {
    const header = proxyV1(client4);
    const result = parseProxyHeader(Buffer.concat([header, Buffer.from('USER alice\r\n')]));
    assert.deepEqual(result, { kind: 'header', version: 1, length: header.length, source: { address: '198.51.100.7', port: 40123 }, destination: { address: '203.0.113.10', port: 21 } });
    const six = parseProxyHeader(proxyV1(client6));
    assert.ok(six.kind === 'header');
    assert.deepEqual(six.source, { address: '2001:db8::7', port: 40123 });
  });

  test('UNKNOWN names nobody; partial lines are incomplete; malformed ones are invalid', () => {
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), { kind: 'header', version: 1, length: 15, source: null, destination: null });
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY TCP4 198.51.100.7 203.0.')), { kind: 'incomplete' });
    for (const line of [
      'PROXY TCP4 198.51.100.7 203.0.113.10 40123\r\n',
      'PROXY TCP4 2001:db8::7 203.0.113.10 40123 21\r\n',
      'PROXY TCP4 198.51.100.7 203.0.113.10 70000 21\r\n',
      'PROXY TCP4 198.51.100.7 203.0.113.10 040 21\r\n',
      'PROXY UDP4 198.51.100.7 203.0.113.10 40123 21\r\n',
    ]) {
      assert.equal(parseProxyHeader(Buffer.from(line)).kind, 'invalid', line);
    }
    assert.equal(parseProxyHeader(Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`)).kind, 'invalid', 'no CRLF within 107 bytes');
  });
});

describe('PROXY protocol version 2', () => {
  test('INET and INET6 headers give both endpoints; TLVs after the addresses are skipped', () => {
    const header = proxyV2(client4, { tlv: Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32]) });
    const result = parseProxyHeader(Buffer.concat([header, Buffer.from([0x16, 0x03, 0x01])]));
    assert.deepEqual(result, { kind: 'header', version: 2, length: header.length, source: { address: '198.51.100.7', port: 40123 }, destination: { address: '203.0.113.10', port: 21 } });
    const six = parseProxyHeader(proxyV2(client6));
    assert.ok(six.kind === 'header');
    assert.deepEqual(six.source, { address: '2001:db8::7', port: 40123 });
    assert.deepEqual(six.destination, { address: '2001:db8:0:1::10', port: 21 });
  });

  test('LOCAL names nobody; a partial header is incomplete; a bad version or command is invalid', () => {
    const local = proxyV2(client4, { local: true });
    assert.deepEqual(parseProxyHeader(local), { kind: 'header', version: 2, length: local.length, source: null, destination: null });
    assert.deepEqual(parseProxyHeader(local.subarray(0, 20)), { kind: 'incomplete' });
    assert.deepEqual(parseProxyHeader(PROXY_V2_SIGNATURE.subarray(0, 5)), { kind: 'incomplete' });
    const badVersion = Buffer.from(local);
    badVersion[12] = 0x11;
    assert.equal(parseProxyHeader(badVersion).kind, 'invalid');
    const badCommand = Buffer.from(local);
    badCommand[12] = 0x22;
    assert.equal(parseProxyHeader(badCommand).kind, 'invalid');
    const udp = proxyV2(client4);
    udp[13] = 0x12;
    assert.equal(parseProxyHeader(udp).kind, 'invalid');
  });

  test('a whole signature is recognised; FTP commands, empty lines and partial signatures are not headers', () => {
    assert.equal(looksLikeProxyHeader(Buffer.from('PROXY TCP4 ')), true);
    assert.equal(looksLikeProxyHeader(proxyV2(client4)), true);
    assert.equal(looksLikeProxyHeader(Buffer.from('PROX')), false);
    assert.equal(looksLikeProxyHeader(PROXY_V2_SIGNATURE.subarray(0, 3)), false);
    for (const line of ['USER alice\r\n', 'PASV\r\n', 'PWD\r\n', '\r\n']) assert.equal(looksLikeProxyHeader(Buffer.from(line)), false, line);
  });
});
