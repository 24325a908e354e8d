/**
 * Debian packages unpacked into a private cache instead of installed, for servers the
 * tests and the benchmark start themselves (ProFTPD, Pure-FTPd): `apt-get download` +
 * `dpkg -x` into <repo>/.cache/debian/<package>-<version>/. `apt-get install` would run
 * the packages' maintainer scripts (system users, /etc config, services started where
 * there is an init system); unpacking changes nothing outside the cache folder.
 *
 * The version is apt's candidate, so the cache follows Debian's updates. Only `npm run
 * fetch:peers` (fetch-peer-servers.ts, run by .ci/run before the tests) downloads: tests
 * talk to loopback only, so at test time a version missing from the cache is a skip
 * reason naming that command. When apt knows no candidate (no lists yet, as on a fresh
 * machine: .ci/run only updates them when it installs something) or the download fails
 * (stale lists naming a version the mirror no longer has), the fetch runs `apt-get
 * update` once and tries the package again.
 *
 * Synchronous on purpose: test files decide `{ skip }` at load time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs as dist/test/helpers/debian-package.js). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DEBIAN_CACHE = join(REPO_ROOT, '.cache', 'debian');

const APT_TIMEOUT_MS = 180_000;

export interface UnpackedPackage {
  name: string;
  version: string;
  /** The unpacked tree (its usr/, lib/, etc/ ...). */
  dir: string;
}

export interface UnpackedPackages {
  packages: UnpackedPackage[];
  /** The path of `relative` (e.g. "usr/sbin/proftpd") in the first package that has it. */
  file(relative: string): string;
  /** The environment for the unpacked programs: LD_LIBRARY_PATH also names the unpacked library folders. */
  env: NodeJS.ProcessEnv;
  /** Shared libraries `files` need that neither the machine nor the unpacked packages have ("file: lib"). */
  missingLibraries(files: readonly string[]): string[];
}

/** False when packages can be downloaded and unpacked here, else why not. */
export function debianPackagesSkipReason(): false | string {
  for (const tool of ['apt-get', 'apt-cache', 'dpkg']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) return `${tool} is missing: Debian packages cannot be fetched here`;
  }
  return false;
}

let listsUpdated = false;

/** `apt-get update`, at most once per process; waits (bounded) while another apt holds the lists lock. */
function updateListsOnce(): void {
  if (listsUpdated) return;
  listsUpdated = true;
  for (let attempt = 1; ; attempt++) {
    const result = spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8', timeout: APT_TIMEOUT_MS, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (result.status === 0) return;
    // apt does not wait for the lists lock itself (DPkg::Lock::Timeout covers dpkg's only).
    if (!/could not get lock|unable to lock/i.test(result.stderr ?? '') || attempt >= 60) throw new Error(`apt-get update failed: ${(result.stderr ?? '').trim() || result.error?.message}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}

/** apt's candidate version of each of `names` (absent when apt knows none): one apt-cache run, it takes a second. */
function candidateVersions(names: readonly string[]): Map<string, string> {
  const result = spawnSync('apt-cache', ['policy', ...names], { encoding: 'utf8', timeout: 30_000 });
  const versions = new Map<string, string>();
  // One section per package: "name:" at the start of a line, then "  Candidate: VERSION".
  for (const section of (result.stdout ?? '').split(/^(?=\S+:$)/m)) {
    const name = /^(\S+):$/m.exec(section)?.[1];
    const version = /^\s*Candidate:\s*(\S+)/m.exec(section)?.[1];
    if (name && version && version !== '(none)') versions.set(name, version);
  }
  return versions;
}

/** The cache folder of one version (":" of an epoch would split LD_LIBRARY_PATH). */
function cacheDir(name: string, version: string): string {
  return join(DEBIAN_CACHE, `${name}-${version.replace(/:/g, '_')}`);
}

/** Downloads and unpacks one version; returns apt's complaint when it cannot be downloaded. */
function download(name: string, version: string): string | null {
  mkdirSync(DEBIAN_CACHE, { recursive: true });
  const work = mkdtempSync(join(DEBIAN_CACHE, `.${name}-`));
  try {
    // As root, apt would drop to its _apt user, which cannot write here; it only warns, but says so on every run.
    const sandbox = process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [];
    const fetched = spawnSync('apt-get', ['download', '-qq', ...sandbox, `${name}=${version}`], { cwd: work, encoding: 'utf8', timeout: APT_TIMEOUT_MS });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (fetched.status !== 0 || !deb) return (fetched.stderr || fetched.error?.message || 'no .deb').trim();
    const tree = join(work, 'tree');
    execFileSync('dpkg', ['-x', join(work, deb), tree], { stdio: 'pipe', timeout: 60_000 });
    try {
      renameSync(tree, cacheDir(name, version));
    } catch (error) {
      // Another test process unpacked the same version first: theirs is as good.
      if (!existsSync(cacheDir(name, version))) throw error;
    }
    return null;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `names` from the cache, downloading what it lacks when `fetch`; throws with the reason when one cannot be had. */
function unpackAll(names: readonly string[], fetch: boolean): UnpackedPackage[] {
  let versions = candidateVersions(names);
  if (!fetch) {
    const missing = names.filter((name) => !versions.has(name) || !existsSync(cacheDir(name, versions.get(name)!)));
    if (missing.length > 0) throw new Error(`${missing.join(', ')} not in ${DEBIAN_CACHE} (tests never download: \`npm run fetch:peers\` fetches them, as .ci/run does)`);
  }
  const failures = new Map<string, string>();
  for (const name of names) {
    const version = versions.get(name);
    const failure = !version ? `apt knows no candidate for ${name}` : existsSync(cacheDir(name, version)) ? null : download(name, version);
    if (failure) failures.set(name, failure);
  }
  if (failures.size > 0) {
    updateListsOnce();
    versions = candidateVersions(names);
    for (const [name, before] of failures) {
      const version = versions.get(name);
      if (!version) throw new Error(`Debian package ${name}: apt knows no candidate even after apt-get update (${before})`);
      const failure = existsSync(cacheDir(name, version)) ? null : download(name, version);
      if (failure) throw new Error(`Debian package ${name}=${version} could not be downloaded: ${failure}`);
    }
  }
  return names.map((name) => ({ name, version: versions.get(name)!, dir: cacheDir(name, versions.get(name)!) }));
}

/** Folders with shared libraries in an unpacked tree: lib/ and usr/lib/ and their multiarch subfolders. */
function libraryDirs(tree: string): string[] {
  const dirs: string[] = [];
  for (const base of ['lib', 'usr/lib']) {
    const path = join(tree, base);
    if (!existsSync(path)) continue;
    for (const entry of readdirSync(path)) {
      if (entry.includes('-linux-') && statSync(join(path, entry)).isDirectory()) dirs.push(join(path, entry));
    }
    if (readdirSync(path).some((f) => /^lib.*\.so(\.|$)/.test(f))) dirs.push(path);
  }
  return dirs;
}

/**
 * Makes `names` available unpacked (with `fetch`, downloading what the cache lacks) and
 * returns where they are. Throws when a package cannot be had.
 */
export function unpackDebianPackages(names: readonly string[], options: { fetch?: boolean } = {}): UnpackedPackages {
  const packages = unpackAll(names, options.fetch ?? false);
  const libraryPath = [...packages.flatMap((p) => libraryDirs(p.dir)), ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)].join(':');
  const env = { ...process.env, LD_LIBRARY_PATH: libraryPath };
  return {
    packages,
    env,
    file(relative) {
      const found = packages.map((p) => join(p.dir, relative)).find((path) => existsSync(path));
      if (!found) throw new Error(`${relative} is in none of ${names.join(', ')}`);
      return found;
    },
    missingLibraries(files) {
      return files.flatMap((file) => {
        const ldd = spawnSync('ldd', [file], { encoding: 'utf8', env, timeout: 30_000 });
        return [...(ldd.stdout ?? '').matchAll(/^\s*(\S+) => not found/gm)].map((m) => `${file}: ${m[1]}`);
      });
    },
  };
}

/** A server run from unpacked packages: what its tests need before they start it. */
export interface UnpackedServer {
  /** The unpacked packages (memoized per process); throws with the skip reason when they cannot be had. */
  packages(): UnpackedPackages;
  /** For `{ skip }`: false when the server can run here, else why not. */
  skipReason(): false | string;
  /** "<first package> <its version>" for test names and reports, or "not available here". */
  version(): string;
}

/**
 * `label` run from `names` (the first is the server's own package): it needs root (for
 * `whyRoot`), the packages, and every shared library the unpacked `files` link.
 */
export function unpackedServer(label: string, names: readonly string[], files: readonly string[], whyRoot: string): UnpackedServer {
  let unpacked: UnpackedPackages | string | undefined;
  const load = (): UnpackedPackages | string => {
    if (unpacked !== undefined) return unpacked;
    try {
      const packages = unpackDebianPackages(names);
      const missing = packages.missingLibraries(files.map((f) => packages.file(f)));
      unpacked = missing.length ? `${label} needs shared libraries that are neither installed nor in ${names.join(', ')}: ${missing.join('; ')}` : packages;
    } catch (error) {
      unpacked = `${label} could not be unpacked: ${(error as Error).message}`;
    }
    return unpacked;
  };
  const skipReason = (): false | string => {
    if (process.getuid?.() !== 0) return `the ${label} tests need root (${whyRoot})`;
    const tools = debianPackagesSkipReason();
    if (tools) return tools;
    const loaded = load();
    return typeof loaded === 'string' ? loaded : false;
  };
  return {
    skipReason,
    packages() {
      const reason = skipReason();
      if (reason) throw new Error(reason);
      return load() as UnpackedPackages;
    },
    version: () => (skipReason() ? 'not available here' : `${names[0]} ${(load() as UnpackedPackages).packages[0]!.version}`),
  };
}
