/**
 * Editing a users file (what `ferry user` does): read its entries as written, change
 * them, check that the result is a valid users file, and write it atomically, a new file
 * with mode 0600 (it holds password hashes), an old one keeping its owner and mode. Every key of an entry a change does not touch, and
 * every other entry, is written back as it was read.
 */
import { promises as fs, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { stringify as stringifyToml } from 'smol-toml';
import { parseUsersText, type RawUsers } from './users-file.js';

/**
 * The replacement keeps the old file's owner, group and mode (never more than 0660): root
 * editing the file of a server that runs as another account (run_as, systemd's User=)
 * must not leave it readable by root alone.
 */
async function keepOwnership(temp: string, previous: Stats): Promise<void> {
  await fs.chmod(temp, previous.mode & 0o660);
  if (previous.uid === process.getuid?.() && previous.gid === process.getgid?.()) return;
  await fs.chown(temp, previous.uid, previous.gid).catch((error: NodeJS.ErrnoException) => {
    // Only root may give a file away: anyone else writes it as their own, as before.
    if (error.code !== 'EPERM') throw error;
  });
}

/** The entries of a users file as written; undefined when there is no such file. Throws ConfigError. */
export async function readUserEntries(path: string): Promise<RawUsers | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseUsersText(text, path);
}

/**
 * Applies `change` to the file's entries (a missing file has none) and writes the result,
 * unless it fails validation (ConfigError, and the file stays as it was). Returns what
 * `change` returned.
 */
export async function editUsersFile<T>(path: string, change: (users: RawUsers) => T): Promise<T> {
  const users: RawUsers = { ...(await readUserEntries(path)) };
  const result = change(users);
  const text = stringifyToml({ users }) + '\n';
  parseUsersText(text, path);
  // A temporary file renamed over the old one: readers (the server re-reads the file when
  // it changes) see the old file or the new one, never half of it.
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const previous = await fs.stat(path).catch(() => null);
  try {
    await fs.writeFile(temp, text, { mode: 0o600 });
    if (previous) await keepOwnership(temp, previous);
    await fs.rename(temp, path);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  return result;
}
