/** A pino-shaped logger for unit tests that records each call instead of printing it. */
import type { Logger } from 'pino';

export interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

export function recordingLogger(lines: LogLine[]): Logger {
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => lines.push({ level, fields, message });
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), isLevelEnabled: () => true } as unknown as Logger;
}
