/**
 * File names on the wire in a legacy charset (GBK, Big5, Shift_JIS...) while names on
 * disk stay UTF-8. Chinese Windows Explorer and old clients send GBK without ever
 * sending OPTS UTF8 ON. A codec translates both ways and refuses, rather than mangles,
 * what the other side cannot represent: iconv-lite would substitute "?" or U+FFFD, and
 * a name changed on the way is a different file.
 * Pure code: no sockets, no file system.
 */
import iconv from 'iconv-lite';

export interface NameCodec {
  /** The charset as configured ("utf8", "gbk"...). */
  readonly name: string;
  /** Wire bytes to text; null when the bytes are not a valid, unambiguous sequence of the charset. */
  decode(bytes: Buffer): string | null;
  /** Text to wire bytes; null when the charset cannot represent some character of it. */
  encode(text: string): Buffer | null;
}

function isUtf8Name(name: string): boolean {
  return /^utf-?8$/i.test(name);
}

/** Every ASCII character but NUL, as one string: what the control connection's verbs, spaces and CRLF are made of. */
const ASCII = Array.from({ length: 127 }, (_, code) => String.fromCharCode(code + 1)).join('');

/**
 * Whether `name` is a charset a control connection can be read in: one iconv-lite
 * knows that leaves ASCII as it is (so verbs, spaces and CRLF stay themselves). That
 * keeps out UTF-16, UTF-7 and the byte-to-text formats (base64, hex) iconv-lite also knows.
 */
export function isUsableCharset(name: string): boolean {
  if (isUtf8Name(name)) return true;
  if (!iconv.encodingExists(name)) return false;
  const bytes = Buffer.from(ASCII, 'latin1');
  return iconv.encode(ASCII, name).equals(bytes) && iconv.decode(bytes, name) === ASCII;
}

/** Half of a surrogate pair without its other half: UTF-8 has no form for it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** UTF-8 as Node has it; only byte sequences that are not UTF-8 (and lone surrogates) are refused. */
function utf8Codec(name: string): NameCodec {
  return {
    name,
    decode(bytes) {
      const text = bytes.toString('utf8');
      // Invalid sequences became U+FFFD; a real U+FFFD sent as EF BF BD comes back whole.
      return text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(bytes) ? null : text;
    },
    encode: (text) => (LONE_SURROGATE.test(text) ? null : Buffer.from(text, 'utf8')),
  };
}

/** A legacy charset through iconv-lite; each direction must round-trip, or the name is refused. */
function iconvCodec(name: string): NameCodec {
  return {
    name,
    decode(bytes) {
      const text = iconv.decode(bytes, name, { stripBOM: false });
      return text.includes('\uFFFD') || !iconv.encode(text, name).equals(bytes) ? null : text;
    },
    encode(text) {
      const bytes = iconv.encode(text, name);
      return iconv.decode(bytes, name, { stripBOM: false }) === text ? bytes : null;
    },
  };
}

/** The codec for a charset name (see isUsableCharset); throws on a name it does not accept. */
export function createNameCodec(charset: string): NameCodec {
  if (!isUsableCharset(charset)) throw new Error(`unknown or unusable charset "${charset}"`);
  return isUtf8Name(charset) ? utf8Codec(charset) : iconvCodec(charset);
}

export const UTF8_CODEC: NameCodec = createNameCodec('utf8');
