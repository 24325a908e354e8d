/**
 * The real `ferry` binary's small commands against an in-process Ferry: --version, usage
 * errors exit 2 in every subcommand, `ls` of a single file and `ls --json`, `stat`
 * (text and --json), and `quote` (a raw command, its reply, its exit code, and the
 * commands it refuses before connecting).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PASSWORD, USER } from '../helpers/server.js';
import { closedPort, ferryUrl, ok, REPO_ROOT, runFerry, startFerry, type CliResult, type FerryFixture } from './support.js';

let ferry: FerryFixture;
const env = { FERRY_PASSWORD: PASSWORD };

before(async () => {
  ferry = await startFerry();
  mkdirSync(join(ferry.root, 'dir', 'inner'), { recursive: true });
  writeFileSync(join(ferry.root, 'dir', 'one.txt'), 'one\n');
  writeFileSync(join(ferry.root, 'dir', 'two words.txt'), 'two two\n');
});

after(async () => {
  await ferry?.stop();
});

const url = (path = ''): string => ferryUrl(ferry.port, path);

function jsonLines(result: CliResult): Array<Record<string, unknown>> {
  return result.stdout.toString().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('ferry: version and usage errors', () => {
  test('--version and -V print the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) assert.equal(ok(await runFerry([flag])).stdout.toString(), `${version}\n`);
  });

  test('a usage error in any subcommand exits 2 and says what is wrong', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['mv', 'ftp://127.0.0.1/a', 'b', 'c'], /too many arguments/],
      [['put', 'a', 'b', 'ftp://127.0.0.1/file'], /several files need a URL that ends in "\/"/],
      [['user', 'add', 'x'], /required option '--users <file>'/],
      [['ls', '--no-such-flag', 'ftp://127.0.0.1/'], /unknown option/],
      [['get'], /missing required argument/],
      [['ls', 'not-a-url'], /not a URL/],
    ];
    for (const [args, message] of cases) {
      const result = await runFerry(args);
      assert.equal(result.code, 2, result.describe());
      assert.match(result.stderr, message, result.describe());
    }
  });
});

describe('ferry ls and stat', () => {
  test('ls of a file lists that file alone (plain, -l, --json), as curl and lftp do', async () => {
    assert.equal(ok(await runFerry(['ls', url('dir/one.txt')], { env })).stdout.toString(), 'one.txt\n');
    assert.match(ok(await runFerry(['ls', '-l', url('dir/one.txt')], { env })).stdout.toString(), /^- +4 \d{4}-\d\d-\d\d \d\d:\d\d one\.txt\n$/);
    const [entry] = jsonLines(ok(await runFerry(['ls', '--json', url('dir/one.txt')], { env })));
    assert.deepEqual({ name: entry!.name, type: entry!.type, size: entry!.size }, { name: 'one.txt', type: 'file', size: 4 });
    const missing = await runFerry(['ls', url('dir/none.txt')], { env });
    assert.equal(missing.code, 4, missing.describe());
  });

  test('ls --json prints one object per entry with name, type, size, modified and permissions', async () => {
    const entries = jsonLines(ok(await runFerry(['ls', '--json', url('dir/')], { env })));
    const byName = new Map(entries.map((e) => [e.name, e]));
    assert.deepEqual([...byName.keys()].sort(), ['inner', 'one.txt', 'two words.txt']);
    assert.equal(byName.get('inner')!.type, 'directory');
    assert.equal(byName.get('two words.txt')!.size, 8);
    const modified = byName.get('one.txt')!.modified as string;
    assert.equal(Math.floor(Date.parse(modified) / 1000), Math.floor(statSync(join(ferry.root, 'dir', 'one.txt')).mtimeMs / 1000));
    for (const e of entries) assert.ok('permissions' in e, JSON.stringify(e));
  });

  test('stat shows a file and a directory (text and --json); a missing path exits 4', async () => {
    const text = ok(await runFerry(['stat', url('dir/two words.txt')], { env })).stdout.toString();
    assert.match(text, /^name: two words\.txt\ntype: file\nsize: 8\nmodified: \d{4}-\d\d-\d\dT/);
    const [dir] = jsonLines(ok(await runFerry(['stat', '--json', url('dir/inner')], { env })));
    assert.equal(dir!.type, 'directory');
    assert.equal(dir!.name, 'inner');
    const missing = await runFerry(['stat', url('nothing-here')], { env });
    assert.equal(missing.code, 4, missing.describe());
  });
});

describe('ferry URLs', () => {
  test('a "?" in a URL is part of the path (FTP URLs have no query): here a wildcard', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ferry-cli-q-'));
    try {
      ok(await runFerry(['get', url('dir/on?.txt'), out], { env }));
      assert.deepEqual(readdirSync(out), ['one.txt']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('ferry quote', () => {
  test('sends one command after login and prints the whole reply; words are joined as lftp does', async () => {
    const syst = ok(await runFerry(['quote', url(), 'SYST'], { env }));
    assert.match(syst.stdout.toString(), /^215 UNIX Type: L8/);
    const chmod = ok(await runFerry(['quote', url(), 'SITE', 'CHMOD', '600', 'dir/one.txt'], { env }));
    assert.match(chmod.stdout.toString(), /^200 /, chmod.describe());
    assert.equal(statSync(join(ferry.root, 'dir', 'one.txt')).mode & 0o777, 0o600);
    const feat = ok(await runFerry(['quote', url(), 'FEAT'], { env })).stdout.toString().split('\n');
    assert.match(feat[0]!, /^211-/);
    assert.ok(feat.includes(' MLST type*;size*;modify*;perm*;') || feat.some((l) => l.startsWith(' MLST ')), feat.join('\n'));
  });

  test('a negative reply is printed and sets the exit code (550 -> 4)', async () => {
    const result = await runFerry(['quote', url(), 'MDTM', 'no-such-file'], { env });
    assert.equal(result.code, 4, result.describe());
    assert.match(result.stdout.toString(), /^550 /);
  });

  test('a "%" that starts no escape in a URL is a usage error (exit 2) saying to write %25, before connecting', async () => {
    const port = await closedPort();
    for (const args of [['get', `ftp://${USER}@127.0.0.1:${port}/100%.txt`], ['ls', `ftp://us%zzer@127.0.0.1:${port}/`]]) {
      const result = await runFerry(args, { env });
      assert.equal(result.code, 2, result.describe());
      assert.match(result.stderr, /write a literal "%" as %25/, result.describe());
    }
  });

  test('data, security and login commands are refused before connecting (exit 2)', async () => {
    const nowhere = `ftp://${USER}@127.0.0.1:${await closedPort()}/`;
    for (const verb of ['RETR x', 'PASV', 'LIST', 'AUTH TLS', 'PROT C', 'USER root', 'QUIT']) {
      // As separate words, as one quoted argument, and with leading blanks and lower case.
      for (const words of [verb.split(' '), [verb], [`  ${verb.toLowerCase()}`]]) {
        const result = await runFerry(['quote', nowhere, ...words], { env });
        assert.equal(result.code, 2, result.describe());
        assert.match(result.stderr, /cannot be sent with quote; use /, result.describe());
      }
    }
    const injected = await runFerry(['quote', nowhere, 'NOOP\r\nDELE x'], { env });
    assert.equal(injected.code, 2, injected.describe());
  });
});
