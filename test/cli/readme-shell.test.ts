/**
 * Every shell example of the README runs, as written, against real servers: each ```sh
 * block is one subtest (named by its README line) that runs the block's command lines one
 * after another in one bash, and each line must exit 0 unless EXIT_CODES says otherwise.
 *
 * Where the block runs (the rule table, printed by the first subtest):
 * - A fresh private network namespace per block, only `lo`: the fixed ports the examples
 *   name (2121, 2990, 7480, the passive range) are free there and reach nothing else, so
 *   ports are never rewritten.
 * - Host names the examples give the server (SERVER_NAMES, plus any host of an ftp:// or
 *   ftps:// URL in the block) resolve to 127.0.0.1: /etc/hosts is replaced by a bind
 *   mount inside the namespace's own mount namespace (the machine's stays as it is).
 * - `ferry` is the checkout's bin/ferry.js (a shim first on PATH); `npm` is the real npm
 *   except for EXEMPT_NPM (not run), which print why; `npm start` runs as written (the
 *   build is made once, at install, by `prepare`).
 * - Text substitutions (SUBSTITUTIONS): the password placeholder of `FERRY_PASSWORD=…`
 *   becomes alice's password; absolute example paths (/srv/…, /etc/letsencrypt/…,
 *   /etc/ferry/…) move below the block's scratch folder, where their files are prepared.
 *   Blocks that do not export FERRY_PASSWORD start with it set (as after the Client
 *   section's export).
 * - The working directory holds what the examples use locally (test/helpers/readme-fixtures.ts):
 *   ./report.pdf, ./site/…, ca.pem (the test server's certificate), users.toml (alice),
 *   ferry.toml (the README's nearest ```toml block above the example), and for blocks
 *   that run npm a checkout (package.json and bin/ copied, dist/ and node_modules linked).
 * - Blocks with ftp:// URLs and no server of their own get the test server: `ferry serve`
 *   on 2121 with TLS optional, implicit FTPS on 2990, alice's files (writeServerTree).
 * - Long-running lines (LONG_RUNNING: `ferry serve` but --check, `npm start`) start in
 *   the background and must print the ready line and answer 220 on its port; each is
 *   stopped with SIGTERM to the `ferry serve` process (by PID) before the next one starts
 *   and at the end of the block, and its line must then exit 0.
 * - A block whose ferry.toml uses S3 storage gets a throwaway Ceph gateway (with the keys
 *   its `export AWS_…` line names and the bucket the toml names) reached at the toml's
 *   endpoint inside the namespace; without Ceph that block is skipped, saying why.
 * - Inline `curl …` examples in the prose after a block run while its server is up,
 *   PASSWORD being the password that server printed.
 */
import { after, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { FERRY_BIN, REPO_ROOT } from '../client/support.js';
import { startCephGateway, type CephGateway } from '../helpers/ceph.js';
import { netnsUnavailable } from '../helpers/netns.js';
import { NamespaceShell, shellQuote } from '../helpers/namespace-shell.js';
import { relayIntoNamespace, type NamespaceRelay } from '../helpers/namespace-relay.js';
import { inlineCode, shellBlocks, type CommandLine, type ShellBlock } from '../helpers/readme-blocks.js';
import { certificateFor, copyCheckout, writeLocalFiles, writeNamedCertificates, writeServerTree, type CertificatePair } from '../helpers/readme-fixtures.js';
import { clientEnv, findBinary } from '../helpers/run-process.js';
import { READY, report, startServer, stopServer, type RunningServer } from '../helpers/shell-servers.js';
import { addUser } from '../helpers/users-file.js';

interface LineRule {
  /** Matches the command as the README writes it (continuations joined). */
  command: RegExp;
  why: string;
}

/** Lines that must exit with something else than 0. */
const EXIT_CODES: (LineRule & { exit: number })[] = [
  {
    command: /^ferry doctor ftp:\/\/alice@host:2121\s*(#.*)?$/,
    exit: 6,
    why: 'the test server offers AUTH TLS with a self-signed certificate the line does not trust (no --ca): "6 a TLS problem (when every data mode works)"',
  },
  {
    command: /^ferry doctor ftp:\/\/alice@host:2121 --tls\s*(#.*)?$/,
    exit: 6,
    why: 'explicit FTPS with the same untrusted certificate: exit 6 as above',
  },
];

/** What the test types for lines that read stdin. */
const STDIN: (LineRule & { stdin: string })[] = [
  { command: /^ferry user add bob\b/, stdin: 'b0b-secret\n', why: '"prompts for the password": the test types one (on a pipe, which ferry reads as the password line)' },
];

/** npm subcommands that do not run as they would in a fresh checkout (not run: exit 0); the `npm` shim prints the reason. */
const EXEMPT_NPM: { subcommand: string; why: string }[] = [
  { subcommand: 'install', why: 'CI installed the dependencies already (`npm ci`); the namespace has no network either' },
  { subcommand: 'test', why: 'it would run this test suite from inside itself' },
];
const namesNpm = (subcommand: string, command: CommandLine) => new RegExp(`\\bnpm ${subcommand}\\b`).test(command.text);

/** Lines that start a server and keep running. */
const LONG_RUNNING = [/^\s*ferry serve\b(?!.*\s--check\b)/, /(^|&&|\|\||;)\s*npm start\b/];

/** Host names the examples give the server. */
const SERVER_NAMES = ['host', 'ftp.example.com', 'ftp.example.org', 'ftp.b.example', 'files.b.example'];

/** Absolute paths of the examples that live below the block's scratch "fs" folder instead. */
const MOVED_PATHS = /(?<=^|[\s='"])\/(srv|etc\/letsencrypt|etc\/ferry)\//g;

/** alice's password on the test server, for the whole run. */
const PASSWORD = randomBytes(12).toString('base64url');

/** Text substitutions, in order: [pattern, replacement for a block whose scratch "fs" folder is fsRoot, what it does]. */
const SUBSTITUTIONS: [RegExp, (fsRoot: string) => string, string][] = [
  [/\bFERRY_PASSWORD=(…|\.\.\.)/g, () => `FERRY_PASSWORD=${PASSWORD}`, 'FERRY_PASSWORD=… (or ...) gets alice\'s password'],
  [MOVED_PATHS, (fsRoot) => `${fsRoot}/$1/`, '/srv/, /etc/letsencrypt/ and /etc/ferry/ paths move below the scratch folder'],
];

function substitute(text: string, fsRoot: string): string {
  return SUBSTITUTIONS.reduce((result, [pattern, replacement]) => result.replace(pattern, replacement(fsRoot)), text);
}

const GENERATED_LOGIN = /login: user "([^"]+)", password "([^"]+)"/;

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const blocks = shellBlocks(readme);
const allCommands = blocks.flatMap((block) => block.commands);
const netnsSkip = netnsUnavailable();

const ruleFor = <T extends LineRule>(rules: readonly T[], command: CommandLine): T | undefined => rules.find((rule) => rule.command.test(command.text.trim()));
const isLongRunning = (command: CommandLine) => LONG_RUNNING.some((pattern) => pattern.test(command.text));
const runsNpm = (block: ShellBlock) => block.commands.some((command) => /(^|&&|\|\||;)\s*npm\s/.test(command.text));
const urlHosts = (block: ShellBlock) => block.commands.flatMap((command) => [...command.text.matchAll(/\bftps?:\/\/(?:[^@/\s]+@)?([A-Za-z][\w.-]*)/g)].map((match) => match[1]!));

/** storage settings of the block's ferry.toml when the block serves it with S3 storage. */
function s3Storage(block: ShellBlock): { endpoint: URL; bucket: string } | null {
  if (block.tomlAbove === null || !block.commands.some((command) => /--config ferry\.toml\b/.test(command.text))) return null;
  const storage = (parseToml(block.tomlAbove) as { storage?: { type?: string; endpoint?: string; bucket?: string } }).storage;
  if (storage?.type !== 's3' || !storage.endpoint || !storage.bucket) return null;
  return { endpoint: new URL(storage.endpoint), bucket: storage.bucket };
}

/** The keys an `export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…` line of the block names. */
function exportedKeys(block: ShellBlock): { accessKeyId: string; secretAccessKey: string } | undefined {
  const text = block.commands.map((command) => command.text).join('\n');
  const id = /\bAWS_ACCESS_KEY_ID=(\S+)/.exec(text)?.[1];
  const secret = /\bAWS_SECRET_ACCESS_KEY=(\S+)/.exec(text)?.[1];
  return id && secret ? { accessKeyId: id, secretAccessKey: secret } : undefined;
}

// One gateway, started now so it is up by the time the S3 block runs.
const s3Block = blocks.find((block) => s3Storage(block) !== null);
const ceph: Promise<CephGateway | { skip: string }> | null = s3Block && !netnsSkip ? startCephGateway({ keys: exportedKeys(s3Block) }) : null;
after(async () => {
  const gateway = await ceph;
  if (gateway && !('skip' in gateway)) await gateway.stop();
});

/** Shared by every block: the test server's certificate and alice's users file. */
interface Shared {
  dir: string;
  certificate: CertificatePair;
  users: string;
}
let shared: Shared | undefined;
after(() => shared && rmSync(shared.dir, { recursive: true, force: true }));

function sharedFixtures(): Shared {
  if (!shared) {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-readme-shared-'));
    const names = [...new Set([...SERVER_NAMES, ...blocks.flatMap(urlHosts)])];
    shared = { dir, certificate: certificateFor(join(dir, 'cert'), names), users: addUser(join(dir, 'users.toml'), 'alice', PASSWORD) };
  }
  return shared;
}

/** The environment a reader's terminal would have: a clean one, the shims first on PATH. */
function shellEnv(home: string, bin: string, block: ShellBlock): NodeJS.ProcessEnv {
  const env = clientEnv(home);
  for (const key of Object.keys(env)) if (/^(npm_|AWS_|FERRY_)|^INIT_CWD$/i.test(key)) delete env[key];
  env.PATH = `${bin}:${process.env.PATH ?? ''}`;
  if (!block.commands.some((command) => /\bexport FERRY_PASSWORD=/.test(command.text))) env.FERRY_PASSWORD = PASSWORD;
  return env;
}

function writeShims(bin: string): void {
  const npm = findBinary('npm');
  assert.ok(npm, 'npm is on PATH');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'ferry'), `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(FERRY_BIN)} "$@"\n`, { mode: 0o755 });
  const exempt = EXEMPT_NPM.map((rule) => {
    const say = `echo ${shellQuote(`readme test: npm ${rule.subcommand} not run: ${rule.why}`)} >&2`;
    return `  ${rule.subcommand}) ${say}; exit 0;;`;
  });
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\ncase "$1" in\n${exempt.join('\n')}\nesac\nexec ${shellQuote(npm)} "$@"\n`, { mode: 0o755 });
}

/** Everything one block needs, below `dir`. */
function prepareBlock(dir: string, block: ShellBlock): { cwd: string; fsRoot: string; serverConfig: string; hosts: string; bin: string; home: string } {
  const { certificate, users } = sharedFixtures();
  const paths = { cwd: join(dir, 'work'), fsRoot: join(dir, 'fs'), serverConfig: join(dir, 'server', 'ferry.toml'), hosts: join(dir, 'hosts'), bin: join(dir, 'bin'), home: join(dir, 'home') };
  for (const folder of [paths.cwd, paths.home, join(paths.fsRoot, 'srv', 'ftp'), join(paths.fsRoot, 'srv', 'shared'), join(paths.fsRoot, 'etc', 'ferry')]) mkdirSync(folder, { recursive: true });
  writeShims(paths.bin);
  writeFileSync(paths.hosts, `127.0.0.1 localhost ${[...new Set([...SERVER_NAMES, ...urlHosts(block)])].join(' ')}\n::1 localhost\n`);

  writeLocalFiles(paths.cwd);
  copyFileSync(certificate.cert, join(paths.cwd, 'ca.pem'));
  copyFileSync(users, join(paths.cwd, 'users.toml'));
  copyFileSync(users, join(paths.fsRoot, 'srv', 'shared', 'users.toml'));
  if (block.tomlAbove !== null) writeFileSync(join(paths.cwd, 'ferry.toml'), substitute(block.tomlAbove, paths.fsRoot));
  writeNamedCertificates(paths.fsRoot, block.commands.map((command) => command.text), certificate);
  if (runsNpm(block)) copyCheckout(REPO_ROOT, paths.cwd);

  const serverRoot = join(dir, 'server', 'root');
  writeServerTree(serverRoot);
  const toml = (value: string) => JSON.stringify(value);
  writeFileSync(
    paths.serverConfig,
    [`host = "127.0.0.1"`, `root = ${toml(serverRoot)}`, `users_file = ${toml(users)}`, '[tls]', 'mode = "optional"', `cert = ${toml(certificate.cert)}`, `key = ${toml(certificate.key)}`].join('\n') + '\n',
  );
  return paths;
}

/** Relays the block's S3 endpoint into its namespace, or says why the block is skipped. */
async function s3For(block: ShellBlock, namespace: string, dir: string): Promise<NamespaceRelay | { skip: string } | null> {
  const storage = s3Storage(block);
  if (!storage || !ceph) return null;
  const gateway = await ceph;
  if ('skip' in gateway) return { skip: `S3 example skipped: ${gateway.skip}` };
  await gateway.createBucket(storage.bucket);
  const target = new URL(gateway.endpoint);
  return relayIntoNamespace(namespace, storage.endpoint.hostname, Number(storage.endpoint.port || 80), { host: target.hostname, port: Number(target.port) }, dir);
}

let namespaces = 0;

async function runBlock(t: TestContext, block: ShellBlock): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-readme-sh-'));
  const namespace = `fy-${process.pid}-readme-${namespaces++}`;
  let shell: NamespaceShell | undefined;
  let relay: NamespaceRelay | null = null;
  try {
    const paths = prepareBlock(dir, block);
    shell = await NamespaceShell.start({
      namespace,
      runDir: join(dir, 'run'),
      cwd: paths.cwd,
      env: shellEnv(paths.home, paths.bin, block),
      prelude: `set -o pipefail\nmount --bind ${shellQuote(paths.hosts)} /etc/hosts`,
    });
    const s3 = await s3For(block, namespace, dir);
    if (s3 && 'skip' in s3) return t.skip(s3.skip);
    relay = s3;

    const servers: RunningServer[] = [];
    const ownServer = block.commands.some(isLongRunning);
    if (!ownServer && block.commands.some((command) => /\bftps?:\/\//.test(command.text))) {
      servers.push(await startServer(shell, `ferry serve --config ${shellQuote(paths.serverConfig)}`, `the test server for README.md:${block.line}`));
    }
    for (const command of block.commands) {
      const text = substitute(command.text, paths.fsRoot);
      const where = `README.md:${command.line}: ${command.text.trim()}`;
      if (text !== command.text) t.diagnostic(`README.md:${command.line} runs as: ${text.trim()}`);
      for (const rule of EXEMPT_NPM) if (namesNpm(rule.subcommand, command)) t.diagnostic(`README.md:${command.line}: npm ${rule.subcommand} not run: ${rule.why}`);
      if (isLongRunning(command)) {
        // Examples on one port follow each other: the previous server goes first.
        const previous = servers.pop();
        if (previous) await stopServer(shell, previous);
        servers.push(await startServer(shell, text, where));
        continue;
      }
      const expected = ruleFor(EXIT_CODES, command);
      const result = await shell.run(text, { stdin: ruleFor(STDIN, command)?.stdin });
      assert.equal(result.code, expected?.exit ?? 0, report(where, `exit ${result.code}, expected ${expected?.exit ?? 0}${expected ? ` (${expected.why})` : ''}`, result));
    }
    await runInlineCurl(t, shell, block, servers.at(-1));
    while (servers.length > 0) await stopServer(shell, servers.pop()!);
  } finally {
    await relay?.stop();
    await shell?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The prose's inline `curl …` examples, against the block's server, PASSWORD being the one it printed. */
async function runInlineCurl(t: TestContext, shell: NamespaceShell, block: ShellBlock, server: RunningServer | undefined): Promise<void> {
  const login = server ? GENERATED_LOGIN.exec(server.job.stdout()) : null;
  for (const example of inlineCode(block.proseAfter).filter((code) => code.startsWith('curl '))) {
    assert.ok(login, `README.md:${block.line}: the prose shows \`${example}\`, but the block's server printed no generated login`);
    const text = example.replaceAll('PASSWORD', login[2]!);
    t.diagnostic(`inline example after README.md:${block.line} runs as: ${text}`);
    const result = await shell.run(text);
    assert.equal(result.code, 0, report(`inline example after README.md:${block.line}: ${example}`, `exit ${result.code}`, result));
  }
}

describe('README shell examples', { skip: netnsSkip, concurrency: 2 }, () => {
  it('the rule tables (printed here) each apply to a README line', (t) => {
    t.diagnostic(`host names resolving to 127.0.0.1 in each block's namespace: ${SERVER_NAMES.join(', ')} and the hosts of the block's URLs; ports unchanged`);
    for (const [pattern, , what] of SUBSTITUTIONS) t.diagnostic(`substitution ${pattern}: ${what}`);
    for (const rule of EXIT_CODES) t.diagnostic(`expected exit ${rule.exit} for ${rule.command}: ${rule.why}`);
    for (const rule of STDIN) t.diagnostic(`stdin ${JSON.stringify(rule.stdin)} for ${rule.command}: ${rule.why}`);
    for (const rule of EXEMPT_NPM) t.diagnostic(`exempt: npm ${rule.subcommand} not run: ${rule.why}`);
    assert.ok(blocks.length > 0, 'the README has shell blocks');
    assert.ok(READY.test(readme), "the README's Quick start shows the ready line the servers are waited for");
    const stale = [...EXIT_CODES, ...STDIN].filter((rule) => !allCommands.some((command) => rule.command.test(command.text.trim())));
    assert.deepEqual(stale.map((rule) => String(rule.command)), [], 'rules that match no README command any more');
    const unusedExemptions = EXEMPT_NPM.filter(({ subcommand }) => !allCommands.some((command) => namesNpm(subcommand, command)));
    assert.deepEqual(unusedExemptions.map((rule) => rule.subcommand), [], 'npm exemptions no README command needs any more');
  });

  for (const block of blocks) {
    it(`README.md:${block.line} (${block.heading})`, (t) => runBlock(t, block));
  }
});
