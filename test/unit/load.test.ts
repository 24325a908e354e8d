import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, mergeConfig, readConfigFile } from '../../src/config/load.js';
import { configError } from '../helpers/config-error.js';

let base: string;
let fileCount = 0;

before(() => {
  base = mkdtempSync(join(tmpdir(), 'ferry-config-'));
});

after(() => {
  rmSync(base, { recursive: true, force: true });
});

/** Writes a TOML file in its own fresh folder and returns its path. */
function configFile(text: string): string {
  const dir = join(base, `case-${++fileCount}`);
  mkdirSync(dir);
  const path = join(dir, 'ferry.toml');
  writeFileSync(path, text);
  return path;
}

describe('mergeConfig', () => {
  test('objects merge deeply; scalars and arrays replace', () => {
    const merged = mergeConfig(
      { port: 21, passive: { enabled: true, ports: '1-2' }, list: [1, 2] },
      { passive: { ports: '3-4' }, list: [3], banner: 'hi' },
    );
    assert.deepEqual(merged, { port: 21, passive: { enabled: true, ports: '3-4' }, list: [3], banner: 'hi' });
  });

  test('undefined values in the override do not erase the base', () => {
    assert.deepEqual(mergeConfig({ port: 21, log: { level: 'info' } }, { port: undefined, log: { level: undefined } }), {
      port: 21,
      log: { level: 'info' },
    });
  });

  test('the inputs are not modified', () => {
    const baseTree = { passive: { enabled: true } };
    mergeConfig(baseTree, { passive: { enabled: false } });
    assert.deepEqual(baseTree, { passive: { enabled: true } });
  });
});

describe('loadConfig', () => {
  test('no file and no flags: the defaults', () => {
    const config = loadConfig({});
    assert.equal(config.port, 2121);
    assert.equal(config.host, '0.0.0.0');
    assert.deepEqual(config.passive.ports, { min: 50000, max: 50999 });
  });

  test('values from the file, flags win over the file', () => {
    const path = configFile('port = 2100\nbanner = "from file"\n[passive]\nports = "40000-40009"\n');
    const fromFile = loadConfig({ file: path });
    assert.equal(fromFile.port, 2100);
    assert.equal(fromFile.banner, 'from file');
    assert.deepEqual(fromFile.passive.ports, { min: 40000, max: 40009 });
    const withFlags = loadConfig({ file: path, overrides: { port: 2200, passive: { enabled: false } } });
    assert.equal(withFlags.port, 2200);
    assert.equal(withFlags.banner, 'from file');
    assert.deepEqual(withFlags.passive.ports, { min: 40000, max: 40009 });
    assert.equal(withFlags.passive.enabled, false);
  });

  test('passive.ports = "0" in a file is null (any free port)', () => {
    assert.equal(loadConfig({ file: configFile('[passive]\nports = "0"\n') }).passive.ports, null);
  });

  test('an unknown key in the file is named', () => {
    const error = configError(() => loadConfig({ file: configFile('[passive]\nportz = "1-2"\n') }));
    assert.equal(error.key, 'passive.portz');
    assert.match(error.message, /unknown key "passive\.portz"/);
  });

  test('a wrong type in the file names its key', () => {
    const error = configError(() => loadConfig({ file: configFile('port = "abc"\n') }));
    assert.equal(error.key, 'port');
    assert.match(error.message, /\n {2}port: /);
  });

  test('a TOML syntax error mentions the file and the line', () => {
    const path = configFile('port = 2121\nbanner = \nhost = "::"\n');
    const error = configError(() => loadConfig({ file: path }));
    assert.match(error.message, /TOML syntax error/);
    assert.match(error.message, /line 2\b/);
    assert.ok(error.message.includes(path), error.message);
  });

  test('a missing file is a ConfigError naming it', () => {
    const path = join(base, 'does-not-exist.toml');
    const error = configError(() => loadConfig({ file: path }));
    assert.match(error.message, /cannot read config file/);
    assert.ok(error.message.includes(path));
  });

  test("relative paths in the file resolve against the file's folder", () => {
    const path = configFile('root = "data"\nusers_file = "../users.toml"\n[anonymous]\nroot = "./pub"\n');
    const dir = join(path, '..');
    const config = loadConfig({ file: path });
    assert.equal(config.root, join(dir, 'data'));
    assert.equal(config.users_file, join(dir, '..', 'users.toml'));
    assert.equal(config.anonymous.root, join(dir, 'pub'));
  });

  test("log.transfers in the file resolves against the file's folder; the format defaults to xferlog", () => {
    const path = configFile('[log]\ntransfers = "logs/xferlog"\n');
    const config = loadConfig({ file: path });
    assert.equal(config.log.transfers, join(path, '..', 'logs', 'xferlog'));
    assert.equal(config.log.transfers_format, 'xferlog');
    assert.equal(loadConfig({}).log.transfers, undefined, 'off by default');
    assert.equal(configError(() => loadConfig({ file: configFile('[log]\ntransfers_format = "clf"\n') })).key, 'log.transfers_format');
  });

  test('a hook action has exactly one of command or url: both or neither is an error naming the key', () => {
    const both = '[[hooks.actions]]\nevents = ["upload"]\ncommand = ["/bin/true"]\nurl = "http://127.0.0.1:1/"\n';
    const neither = '[[hooks.actions]]\nevents = ["upload"]\n';
    assert.equal(configError(() => loadConfig({ file: configFile(both) })).key, 'hooks.actions.0.url');
    assert.equal(configError(() => loadConfig({ file: configFile(neither) })).key, 'hooks.actions.0.command');
  });

  test('absolute paths in the file are kept', () => {
    const config = loadConfig({ file: configFile('root = "/srv/ftp"\n') });
    assert.equal(config.root, '/srv/ftp');
  });

  test('relative paths given as flags are not rebased on the file', () => {
    const config = loadConfig({ file: configFile('root = "data"\n'), overrides: { root: 'flag-root' } });
    assert.equal(config.root, 'flag-root');
  });

  test(
    'an empty root in the file is rejected like an empty root flag',

    () => {
      const error = configError(() => loadConfig({ file: configFile('root = ""\n') }));
      assert.equal(error.key, 'root');
    },
  );
});

describe('readConfigFile', () => {
  test('returns the parsed tree with paths made absolute', () => {
    const path = configFile('port = 21\nroot = "r"\n[log]\nlevel = "debug"\n');
    // smol-toml builds null-prototype tables, so compare plain copies.
    const tree = JSON.parse(JSON.stringify(readConfigFile(path))) as unknown;
    assert.deepEqual(tree, { port: 21, root: join(path, '..', 'r'), log: { level: 'debug' } });
  });
});

describe('[storage]', () => {
  const s3 = '[storage]\ntype = "s3"\nbucket = "files"\n';

  test('local by default; s3 needs a bucket, and the error names the key', () => {
    assert.equal(loadConfig({}).storage.type, 'local');
    const error = configError(() => loadConfig({ file: configFile('[storage]\ntype = "s3"\n') }));
    assert.equal(error.key, 'storage.bucket');
    assert.match(error.message, /storage\.bucket: required when storage\.type is "s3"/);
  });

  test('keys in the table come in pairs; part_size is at least 5 MiB; endpoint is a URL', () => {
    assert.equal(configError(() => loadConfig({ file: configFile(`${s3}access_key_id = "k"\n`) })).key, 'storage.secret_access_key');
    assert.equal(configError(() => loadConfig({ file: configFile(`${s3}part_size = 1048576\n`) })).key, 'storage.part_size');
    assert.equal(configError(() => loadConfig({ file: configFile(`${s3}endpoint = "127.0.0.1:7480"\n`) })).key, 'storage.endpoint');
  });

  test('with s3, root and anonymous.root are key prefixes kept as written, and root defaults to the bucket prefix', () => {
    const plain = loadConfig({ file: configFile(s3) });
    assert.deepEqual([plain.root, plain.storage.region, plain.storage.part_size, plain.storage.path_style], ['/', 'us-east-1', 8 * 1024 * 1024, false]);
    const prefixed = loadConfig({ file: configFile(`root = "shared"\n[anonymous]\nenabled = true\nroot = "pub/"\n${s3}`) });
    assert.deepEqual([prefixed.root, prefixed.anonymous.root], ['shared', 'pub/']);
  });

  test('a site inherits s3 from the top level, or turns it on for itself', () => {
    const inherited = loadConfig({ file: configFile(`${s3}[sites.b]\nhosts = ["b.example"]\nroot = "b"\n`) });
    assert.deepEqual([inherited.sites[0]!.config.storage.type, inherited.sites[0]!.config.root], ['s3', 'b']);
    const own = loadConfig({ file: configFile(`root = "local"\n[sites.c]\nhosts = ["c.example"]\nroot = "c"\n[sites.c.storage]\ntype = "s3"\nbucket = "c"\n`) });
    assert.equal(own.root, join(base, `case-${fileCount}`, 'local'));
    assert.deepEqual([own.sites[0]!.config.storage.type, own.sites[0]!.config.root], ['s3', 'c']);
  });
});
