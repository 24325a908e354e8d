/** The client commands of `ferry`, one module each under ./commands. */
import type { Command } from 'commander';
import { registerFileCommands } from './commands/files.js';
import { registerGet } from './commands/get.js';
import { registerLs } from './commands/ls.js';
import { registerMirror } from './commands/mirror.js';
import { registerPut } from './commands/put.js';
import { registerQuote } from './commands/quote.js';
import { registerStat } from './commands/stat.js';

export function registerClientCommands(program: Command): void {
  registerLs(program);
  registerStat(program);
  registerGet(program);
  registerPut(program);
  registerFileCommands(program);
  registerMirror(program);
  registerQuote(program);
}
