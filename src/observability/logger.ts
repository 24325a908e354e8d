/**
 * Logs go to stderr: human-readable lines by default, JSON with --log-format json.
 * Passwords never reach a log (the session redacts PASS before logging).
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export function createLogger(options: { format: 'text' | 'json'; level: string }): Logger {
  if (options.format === 'json') return pino({ level: options.level }, pino.destination({ fd: 2, sync: true }));
  const stream = pretty({
    destination: 2,
    sync: true,
    colorize: false,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
  return pino({ level: options.level }, stream);
}
