/** The client commands of `ferry`, one module each under ./commands. */
import type { Command } from 'commander';
import { registerFileCommands } from './commands/files.js';
import { registerGet } from './commands/get.js';
import { registerLs } from './commands/ls.js';
import { registerMirror } from './commands/mirror.js';
import { registerPut } from './commands/put.js';

export function registerClientCommands(program: Command): void {
  registerLs(program);
  registerGet(program);
  registerPut(program);
  registerFileCommands(program);
  registerMirror(program);
}
