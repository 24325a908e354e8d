/**
 * fast-check generators for fuzz sequences: every verb of the command table plus unknown
 * ones, arguments drawn from adversarial pools, adversarial line endings and framing,
 * passive storms, and transfers whose data connection is completed, reset, aborted,
 * stalled, abandoned or never opened.
 */
import fc from 'fast-check';
import type { ArgPiece, CommandLine, DataAction, DataMode, LoginAs, Sequence, Step } from './steps.js';

export interface ArbitraryContext {
  /** Every verb (and alias) the server's command table knows. */
  verbs: readonly string[];
  /** A port listening on 127.0.0.2: PORT/EPRT pointing there must be refused (bounce). */
  trapPort: number;
  /** Name of the folder next to the root holding the sentinel file. */
  sentinelDir: string;
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

/** Raw byte pieces: NUL, bare CR/LF, Telnet IAC sequences, invalid and tricky UTF-8. */
const rawPiece = fc.oneof(
  fc.constantFrom(
    bytes(0x00),
    bytes(0x0d),
    bytes(0x0a),
    bytes(0x0d, 0x00),
    bytes(0xff, 0xf4, 0xff, 0xf2),
    bytes(0xff, 0xff),
    bytes(0xff),
    bytes(0xff, 0xfb, 0x01),
    bytes(0xc3, 0x28),
    bytes(0xc0, 0xaf), // overlong "/"
    bytes(0xe0, 0x80, 0xaf), // overlong "/"
    bytes(0xed, 0xa0, 0x80), // a lone surrogate
    bytes(0xf8, 0x88, 0x80, 0x80, 0x80),
    bytes(0x80, 0x81, 0xfe),
    bytes(0xe2, 0x80, 0xae), // right-to-left override
    bytes(0x1b, 0x5b, 0x32, 0x4a), // ANSI escape
  ),
  fc.uint8Array({ maxLength: 24 }),
);

function pathPiece(context: ArbitraryContext): fc.Arbitrary<string> {
  const sentinel = context.sentinelDir;
  return fc.constantFrom(
    '',
    ' ',
    '.',
    '..',
    '../..',
    '../../etc/passwd',
    '/etc/passwd',
    '/../../../../etc/passwd',
    '..\\..\\windows\\win.ini',
    `../${sentinel}`,
    `../${sentinel}/secret.txt`,
    `/../${sentinel}/secret.txt`,
    `dir/../../${sentinel}/secret.txt`,
    `..%2f${sentinel}`,
    '~',
    '~root',
    '//',
    '/./.././',
    '/proc/self/environ',
    'f.txt',
    'big.bin',
    'dir',
    'dir/nested.txt',
    'new.bin',
    'dir/new.bin',
    '"quoted"',
    'a b  c',
    '-la',
    '-R /',
    '-a ..',
    'CON',
    '.ferry-upload-x',
  );
}

const globPiece = fc.oneof(
  fc.constantFrom('*', '?', '[', '[!]', '[a-', '[]]', '[!a-z]*', '[[[[', '**/*', '*/*/*/*', '\\*', '{a,b}', '*.txt'),
  fc.integer({ min: 2, max: 600 }).map((n) => '*a'.repeat(n) + 'b'),
  fc.integer({ min: 2, max: 300 }).map((n) => '[a-z]'.repeat(n)),
);

const numberPiece = fc.oneof(
  fc.constantFrom('0', '-1', '1', '99999999999999999999', '18446744073709551616', '9007199254740993', '1e308', 'NaN', '0x10', '+5', ' 7', '1.5', '007'),
  fc.bigInt({ min: 0n, max: 1n << 80n }).map(String),
);

/** PORT and EPRT commands the server must refuse: a third host (the trap on 127.0.0.2, TEST-NET-1) or a privileged port. */
export function bounceCommands(trapPort: number): string[] {
  const high = Math.floor(trapPort / 256);
  const low = trapPort % 256;
  return [
    `PORT 127,0,0,2,${high},${low}`,
    'PORT 127,0,0,1,0,21',
    'PORT 127,0,0,1,0,22',
    'PORT 127,0,0,1,3,255',
    'PORT 0,0,0,0,0,25',
    'PORT 192,0,2,1,4,1', // TEST-NET-1: never routed
    `EPRT |1|127.0.0.2|${trapPort}|`,
    'EPRT |1|127.0.0.1|22|',
    `EPRT |2|::ffff:127.0.0.2|${trapPort}|`,
    'EPRT |1|0.0.0.0|80|',
  ];
}

function addressPiece(context: ArbitraryContext): fc.Arbitrary<string> {
  const trapHigh = Math.floor(context.trapPort / 256);
  const trapLow = context.trapPort % 256;
  return fc.constantFrom(
    `127,0,0,2,${trapHigh},${trapLow}`,
    '127,0,0,1,0,21',
    '127,0,0,1,0,1',
    '0,0,0,0,0,25',
    '192,0,2,1,4,1',
    '255,255,255,255,255,255',
    '999,999,999,999,999,999',
    '127,0,0,1,256,256',
    '1,2,3',
    '127,0,0,1,-1,5',
    `|1|127.0.0.2|${context.trapPort}|`,
    '|1|127.0.0.1|22|',
    '|1|127.0.0.1|0|',
    '|1|127.0.0.1|70000|',
    '|2|::1|21|',
    `|2|::ffff:127.0.0.2|${context.trapPort}|`,
    '|3|x|1|',
    '||||',
    '|1|||',
    '!1!127.0.0.1!2000!',
    'ALL',
    '1',
    '2',
    '3',
  );
}

const wordPiece = fc.constantFrom(
  'A',
  'I',
  'E',
  'L 8',
  'A N',
  'A T',
  'S',
  'F',
  'R',
  'P',
  'C',
  'B',
  'TLS',
  'SSL',
  'TLS-C',
  'UTF8 ON',
  'UTF8 OFF',
  'MLST type;size;modify;',
  'MLST ;;;;;;',
  'CHMOD 777 f.txt',
  'IDLE 0',
  'HELP',
  'anonymous',
  'alice',
  'secret',
);

function argPiece(context: ArbitraryContext): fc.Arbitrary<ArgPiece> {
  return fc.oneof(
    { weight: 4, arbitrary: pathPiece(context) },
    { weight: 2, arbitrary: globPiece },
    { weight: 2, arbitrary: numberPiece },
    { weight: 2, arbitrary: addressPiece(context) },
    { weight: 2, arbitrary: wordPiece },
    { weight: 2, arbitrary: rawPiece },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }) },
    { weight: 1, arbitrary: fc.integer({ min: 256, max: 9000 }).map((n) => 'A'.repeat(n)) },
    { weight: 1, arbitrary: fc.integer({ min: 50, max: 3000 }).map((n) => '../'.repeat(n)) },
  );
}

function verb(context: ArbitraryContext): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...context.verbs) },
    { weight: 1, arbitrary: fc.constantFrom(...context.verbs).map((v) => v.toLowerCase()) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{3,4}$/) },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
  );
}

function commandLine(context: ArbitraryContext): fc.Arbitrary<CommandLine> {
  return fc.record({
    verb: verb(context),
    arg: fc.option(fc.array(argPiece(context), { minLength: 1, maxLength: 3 }), { freq: 4 }),
    end: fc.oneof(
      { weight: 12, arbitrary: fc.constant('crlf' as const) },
      { weight: 1, arbitrary: fc.constantFrom('lf' as const, 'cr' as const, 'crnul' as const, 'none' as const) },
    ),
    telnetPrefix: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  });
}

const dataMode = fc.constantFrom<DataMode>('PASV', 'EPSV', 'PORT', 'EPRT');
const dataAction = fc.oneof(
  { weight: 4, arbitrary: fc.constant<DataAction>('complete') },
  { weight: 6, arbitrary: fc.constantFrom<DataAction>('reset', 'abor', 'abor-telnet', 'stat', 'stall', 'vanish') },
  { weight: 1, arbitrary: fc.constant<DataAction>('ignore') },
);

function transferStep(context: ArbitraryContext): fc.Arbitrary<Step> {
  return fc.record({
    kind: fc.constant('transfer' as const),
    verb: fc.constantFrom('STOR', 'RETR', 'APPE', 'STOU', 'LIST', 'NLST', 'MLSD'),
    arg: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('big.bin', 'f.txt', 'new.bin', 'dir/new.bin', 'dir').map((p): ArgPiece[] => [p]) },
      { weight: 1, arbitrary: fc.array(argPiece(context), { maxLength: 2 }) },
    ),
    mode: dataMode,
    from: fc.oneof({ weight: 5, arbitrary: fc.constant('self' as const) }, { weight: 1, arbitrary: fc.constant('foreign' as const) }),
    action: dataAction,
    size: fc.oneof(fc.constantFrom(0, 1, 4096), fc.integer({ min: 0, max: 512 * 1024 })),
  });
}

function step(context: ArbitraryContext): fc.Arbitrary<Step> {
  const line = commandLine(context);
  return fc.oneof(
    { weight: 6, arbitrary: line.map((l): Step => ({ kind: 'send', lines: [l], cuts: [] })) },
    {
      weight: 2,
      arbitrary: fc
        .record({ lines: fc.array(line, { minLength: 2, maxLength: 8 }), cuts: fc.array(fc.nat({ max: 200 }), { maxLength: 4 }) })
        .map((r): Step => ({ kind: 'send', ...r })),
    },
    {
      weight: 1,
      arbitrary: fc.record({ line, cuts: fc.array(fc.nat({ max: 40 }), { minLength: 1, maxLength: 6 }) }).map((r): Step => ({ kind: 'send', lines: [r.line], cuts: r.cuts })),
    },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 512 }).map((b): Step => ({ kind: 'raw', bytes: b })) },
    {
      weight: 1,
      arbitrary: fc.record({ verb: fc.constantFrom('PASV' as const, 'EPSV' as const), count: fc.integer({ min: 2, max: 80 }) }).map((r): Step => ({ kind: 'storm', ...r })),
    },
    { weight: 4, arbitrary: transferStep(context) },
    {
      weight: 1,
      arbitrary: fc
        .record({ command: fc.constantFrom(...bounceCommands(context.trapPort)), then: fc.constantFrom('LIST', 'NLST', 'RETR f.txt', 'STOR bounce.bin', 'MLSD') })
        .map((r): Step => ({ kind: 'bounce', ...r })),
    },
  );
}

const loginAs = fc.oneof(
  { weight: 6, arbitrary: fc.constant<LoginAs>('alice') },
  { weight: 2, arbitrary: fc.constantFrom<LoginAs>('bob', 'anonymous') },
  { weight: 1, arbitrary: fc.constantFrom<LoginAs>('wrong-password', 'none') },
);

export function sequenceArbitrary(context: ArbitraryContext, maxSteps: number): fc.Arbitrary<Sequence> {
  return fc.record({ login: loginAs, steps: fc.array(step(context), { minLength: 1, maxLength: maxSteps }) });
}
