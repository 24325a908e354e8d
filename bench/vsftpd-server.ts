/** Placeholder replaced below. */
import type { BenchServer, ServerSetup } from './types.js';
export function vsftpdVersion(): string {
  return 'unknown';
}
export async function startVsftpd(_setup: ServerSetup): Promise<BenchServer> {
  throw new Error('not wired yet');
}
