import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createNameCodec, isUsableCharset, UTF8_CODEC } from '../../src/protocol/charset.js';

const NAME = '中文文件名.txt';
/** 中文文件名.txt in GBK (CP936), as Chinese Windows Explorer sends it. */
const NAME_GBK = Buffer.from('d6d0cec4cec4bcfec3fb2e747874', 'hex');
/** 中文文件名.txt in Big5 (文件名 are the same characters in traditional Chinese). */
const NAME_BIG5 = Buffer.from('a4a4a4e5a4e5a5f3a6572e747874', 'hex');

describe('createNameCodec: GBK', () => {
  const gbk = createNameCodec('gbk');

  test('GBK bytes of 中文文件名.txt decode to the name, and the name encodes to them', () => {
    assert.equal(gbk.decode(NAME_GBK), NAME);
    assert.deepEqual(gbk.encode(NAME), NAME_GBK);
    assert.equal(gbk.name, 'gbk');
  });

  test('cp936 and gb18030 give the same bytes for these characters', () => {
    assert.deepEqual(createNameCodec('cp936').encode(NAME), NAME_GBK);
    assert.deepEqual(createNameCodec('gb18030').encode(NAME), NAME_GBK);
  });

  test('a character GBK has no form for is null, never "?"', () => {
    assert.equal(gbk.encode('photo-😀.jpg'), null);
    assert.equal(gbk.encode('한국어'), null);
    // A real "?" in a name is fine: it round-trips.
    assert.deepEqual(gbk.encode('why?.txt'), Buffer.from('why?.txt'));
  });

  test('bytes that are not GBK are null, never U+FFFD', () => {
    assert.equal(gbk.decode(Buffer.from([0x41, 0x81])), null, 'a lead byte without its trail byte');
    assert.equal(gbk.decode(Buffer.from([0xff, 0x41])), null);
    // The UTF-8 form of 中 read as GBK is other text that does not come back the same.
    assert.notEqual(gbk.decode(Buffer.from('中', 'utf8')), '中');
  });

  test('a byte order mark is part of the name, not dropped', () => {
    const gb18030 = createNameCodec('gb18030');
    const bom = gb18030.encode('\uFEFFa');
    assert.ok(bom);
    assert.equal(gb18030.decode(bom), '\uFEFFa');
  });
});

describe('createNameCodec: Big5, Shift_JIS, Latin-1', () => {
  test('Big5 round-trips its own bytes', () => {
    const big5 = createNameCodec('big5');
    assert.deepEqual(big5.encode(NAME), NAME_BIG5);
    assert.equal(big5.decode(NAME_BIG5), NAME);
    assert.equal(big5.encode('简体'), null, 'simplified characters Big5 lacks');
  });

  test('Shift_JIS keeps ASCII and encodes kana', () => {
    const sjis = createNameCodec('shift_jis');
    assert.deepEqual(sjis.encode('a\\b~.txt'), Buffer.from('a\\b~.txt'));
    const kana = sjis.encode('ファイル');
    assert.ok(kana);
    assert.equal(kana.length, 8);
    assert.equal(sjis.decode(kana), 'ファイル');
  });

  test('Latin-1 has every byte, but no CJK', () => {
    const latin1 = createNameCodec('latin1');
    assert.equal(latin1.decode(Buffer.from([0x63, 0x61, 0x66, 0xe9])), 'café');
    assert.equal(latin1.encode(NAME), null);
  });
});

describe('createNameCodec: UTF-8', () => {
  test('passes valid UTF-8 through both ways', () => {
    const utf8 = createNameCodec('utf8');
    assert.equal(utf8.decode(Buffer.from(NAME, 'utf8')), NAME);
    assert.deepEqual(utf8.encode('photo-😀.jpg'), Buffer.from('photo-😀.jpg', 'utf8'));
    assert.equal(UTF8_CODEC.name, 'utf8');
    assert.equal(createNameCodec('UTF-8').decode(Buffer.from('x')), 'x');
  });

  test('refuses bytes that are not UTF-8, but keeps a real U+FFFD', () => {
    assert.equal(UTF8_CODEC.decode(NAME_GBK), null);
    assert.equal(UTF8_CODEC.decode(Buffer.from([0x41, 0xff])), null);
    assert.equal(UTF8_CODEC.decode(Buffer.from('a\uFFFDb', 'utf8')), 'a\uFFFDb');
  });

  test('refuses a lone surrogate (it has no UTF-8 form)', () => {
    assert.equal(UTF8_CODEC.encode('a\uD800b'), null);
    assert.deepEqual(UTF8_CODEC.encode('\uD83D\uDE00'), Buffer.from('😀', 'utf8'));
  });
});

describe('isUsableCharset', () => {
  test('accepts the charsets legacy clients use', () => {
    for (const name of ['utf8', 'utf-8', 'gbk', 'cp936', 'gb18030', 'big5', 'shift_jis', 'latin1', 'euc-kr', 'cp1252', 'koi8-r']) {
      assert.equal(isUsableCharset(name), true, name);
    }
  });

  test('refuses unknown names and charsets that change ASCII (the verbs and CRLF)', () => {
    for (const name of ['klingon', '', 'utf16le', 'ucs2', 'utf7', 'base64', 'hex']) {
      assert.equal(isUsableCharset(name), false, name);
      assert.throws(() => createNameCodec(name), /charset/);
    }
  });
});
