/**
 * A private pyftpdlib server (Debian package python3-pyftpdlib, run by the system
 * /usr/bin/python3) for tests: a second FTP implementation, independent of Ferry and
 * vsftpd, with MLSD and optional explicit FTPS (TLS_FTPHandler, which needs
 * python3-openssl). Listens on 127.0.0.1 port 0 and reports the port on stdout;
 * `stop()` ends only the PID it started and removes its folder.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCertificate } from './certificate.js';
import { servedTree } from './ftp-daemon.js';
import { killOnExit, stopChild } from './run-process.js';

export const PYTHON = '/usr/bin/python3';
export const PYFTPDLIB_USER = 'ferry';
export const PYFTPDLIB_PASSWORD = 'pyftpdlib-password';

export interface PyftpdlibInstance {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Host folder that is "/" for the user. */
  root: string;
  tls: boolean;
  /** The self-signed certificate (PEM) when `tls`. */
  certPem?: string;
  pid: number;
  /** Writes a file under `root` (folders created). */
  writeFile(relative: string, data: Buffer | string): string;
  /** Creates a folder (and its parents) under `root`. */
  mkdir(relative: string): string;
  output(): string;
  stop(): Promise<void>;
}

function pythonCan(code: string): boolean {
  try {
    execFileSync(PYTHON, ['-c', code], { stdio: 'pipe', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** For `{ skip }`: false when pyftpdlib can run here, else why not. */
export function pyftpdlibSkipReason(options: { tls?: boolean } = {}): false | string {
  if (!existsSync(PYTHON)) return `${PYTHON} is missing`;
  if (!pythonCan('import pyftpdlib')) return 'pyftpdlib is not installed for /usr/bin/python3 (apt-get install python3-pyftpdlib)';
  if (options.tls && !pythonCan('from pyftpdlib.handlers import TLS_FTPHandler')) return 'pyftpdlib has no TLS support here (apt-get install python3-openssl)';
  if (options.tls && !existsSync('/usr/bin/openssl')) return 'openssl is not installed (needed for the certificate)';
  return false;
}

const SERVER_SCRIPT = `
import logging, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.servers import FTPServer
root, user, password, certfile = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
authorizer = DummyAuthorizer()
authorizer.add_user(user, password, root, perm="elradfmwMT")
if certfile:
    from pyftpdlib.handlers import TLS_FTPHandler as Handler
    Handler.certfile = certfile
    Handler.tls_control_required = False
    Handler.tls_data_required = False
else:
    from pyftpdlib.handlers import FTPHandler as Handler
Handler.authorizer = authorizer
Handler.banner = "pyftpdlib ready."
Handler.auth_failed_timeout = 0.1
logging.basicConfig(level=logging.WARNING)
server = FTPServer(("127.0.0.1", 0), Handler)
server.max_cons = 256
print("PORT %d" % server.socket.getsockname()[1], flush=True)
server.serve_forever(timeout=0.5)
`;

export async function startPyftpdlib(options: { tls?: boolean } = {}): Promise<PyftpdlibInstance> {
  const reason = pyftpdlibSkipReason(options);
  if (reason) throw new Error(reason);
  const base = mkdtempSync(join(tmpdir(), 'ferry-pyftpdlib-'));
  const root = join(base, 'root');
  mkdirSync(root);
  let certfile = '';
  let certPem: string | undefined;
  if (options.tls) {
    certfile = join(base, 'combined.pem');
    const { cert, key } = generateCertificate(base);
    certPem = readFileSync(cert, 'utf8');
    writeFileSync(certfile, certPem + readFileSync(key, 'utf8'));
  }
  const child = spawn(PYTHON, ['-c', SERVER_SCRIPT, root, PYFTPDLIB_USER, PYFTPDLIB_PASSWORD, certfile], { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let output = '';
  child.stderr.setEncoding('utf8').on('data', (t: string) => (output += t));
  const stop = async () => {
    await stopChild(child);
    rmSync(base, { recursive: true, force: true });
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`pyftpdlib did not report its port in 10 s: ${output}`)), 10_000);
      child.stdout.setEncoding('utf8').on('data', (t: string) => {
        text += t;
        const match = /PORT (\d+)/.exec(text);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`pyftpdlib exited (${code}): ${output}`));
      });
    });
    return {
      host: '127.0.0.1',
      port,
      user: PYFTPDLIB_USER,
      password: PYFTPDLIB_PASSWORD,
      root,
      tls: Boolean(options.tls),
      certPem,
      pid: child.pid!,
      // pyftpdlib runs as this process's user: the files are that user's too.
      ...servedTree(root, process.getuid?.() ?? 0, process.getgid?.() ?? 0),
      output: () => output,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
