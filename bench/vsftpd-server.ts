/**
 * vsftpd for the benchmark: the same private instance the client tests use
 * (test/helpers/vsftpd.ts), pointed at the benchmark's data folder, with any passive
 * port (as Ferry gets) and FTPS with the same certificate Ferry uses.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startVsftpd as startInstance, vsftpdSkipReason } from '../test/helpers/vsftpd.js';
import { daemonBenchServer } from './daemon-server.js';
import type { BenchServer, ServerSetup } from './types.js';

export function vsftpdVersion(): string {
  try {
    // vsftpd -v prints its version on stdin's descriptor (fd 0), hence the redirect.
    return execFileSync('bash', ['-c', '/usr/sbin/vsftpd -v 0>&1'], { encoding: 'utf8' }).trim();
  } catch {
    return 'vsftpd not installed';
  }
}

/** Gives the data folder to the vsftpd user (Ferry runs as root and reads it either way). */
function shareRoot(root: string, uid: number, gid: number): void {
  chownSync(root, uid, gid);
  for (const name of readdirSync(root)) {
    chownSync(join(root, name), uid, gid);
    if (statSync(join(root, name)).isDirectory()) for (const inner of readdirSync(join(root, name))) chownSync(join(root, name, inner), uid, gid);
  }
}

export async function startVsftpd(setup: ServerSetup): Promise<BenchServer> {
  const reason = vsftpdSkipReason({ ssl: true });
  if (reason) throw new Error(reason);
  const instance = await startInstance({
    ssl: true,
    extra: {
      local_root: setup.root,
      pasv_min_port: 0,
      pasv_max_port: 0,
      rsa_cert_file: setup.cert,
      rsa_private_key_file: setup.key,
    },
  });
  shareRoot(setup.root, instance.uid, instance.gid);
  return daemonBenchServer('vsftpd', instance);
}
