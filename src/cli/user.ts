/** `ferry user add`: adds a user with a scrypt-hashed password to a users file. */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { hashPassword } from '../auth/password.js';
import { saveUser } from '../auth/users-file.js';
import { promptHidden } from './prompt.js';

/** Reads the password: the first line of stdin when piped, a hidden prompt on a terminal. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    return text.split(/\r?\n/)[0] ?? '';
  }
  const first = await promptHidden('Password: ');
  const second = await promptHidden('Repeat password: ');
  if (first !== second) throw new Error('passwords do not match');
  return first;
}

export async function addUser(name: string, options: { users: string; home?: string; readOnly?: boolean }): Promise<void> {
  if (!/^[^\s:/\\]{1,64}$/.test(name)) throw new Error('user names are 1-64 characters without spaces, ":" or slashes');
  const password = await readPassword();
  if (password.length === 0) throw new Error('empty password');
  const home = options.home === undefined ? undefined : resolve(options.home);
  if (home) mkdirSync(home, { recursive: true });
  await saveUser(resolve(options.users), { name, passwordHash: await hashPassword(password), home, readOnly: options.readOnly });
  process.stdout.write(`user ${name} saved in ${resolve(options.users)}${options.readOnly ? ' (read-only)' : ''}\n`);
}
