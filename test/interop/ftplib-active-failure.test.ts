/**
 * Python's ftplib in active mode without a timeout waits in accept() for as long as it
 * takes once it has seen a 150. So a server must connect back before it says 150: when
 * the connect fails, ftplib gets the 425 and raises at once instead of hanging forever.
 * The driver sends PORT for a closed port (its real listener is never used), which is
 * what a client firewall that rejects the connect-back looks like to the server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PYTHON } from '../helpers/python-driver.js';
import { runProcess, skipUnlessInstalled } from '../helpers/run-process.js';
import { PASSWORD, USER } from '../helpers/server.js';
import { withServer } from './fixtures.js';

const DRIVER = String.raw`
import ftplib, json, socket, sys

cfg = json.loads(sys.argv[1])

class PortToClosedPort(ftplib.FTP):
    def makeport(self):
        sock = socket.create_server(('127.0.0.1', 0))
        closed = socket.create_server(('127.0.0.1', 0))
        port = closed.getsockname()[1]
        closed.close()
        self.sendport('127.0.0.1', port)
        return sock

ftp = PortToClosedPort()
ftp.connect(cfg['host'], cfg['port'])  # no timeout: ftplib's default, blocking forever
ftp.login(cfg['user'], cfg['password'])
ftp.set_pasv(False)
try:
    ftp.retrbinary('RETR a.txt', lambda chunk: None)
    print(json.dumps({'error': None}))
except ftplib.all_errors as error:
    print(json.dumps({'error': str(error)}))
ftp.quit()
`;

test('ftplib without a timeout gets 425 at once when the active connect-back fails', { skip: skipUnlessInstalled('python3') }, () =>
  withServer({}, async ({ server }) => {
    writeFileSync(join(server.root, 'a.txt'), 'a');
    const config = { host: server.host, port: server.port, user: USER, password: PASSWORD };
    const result = await runProcess(PYTHON!, ['-I', '-c', DRIVER, JSON.stringify(config)], { timeoutMs: 15_000 });
    assert.equal(result.timedOut, false, 'ftplib hung waiting for a data connection that never came');
    assert.equal(result.code, 0, result.stderr);
    const { error } = JSON.parse(result.stdout.toString()) as { error: string | null };
    assert.match(error ?? '', /^425 Can't open data connection to 127\.0\.0\.1:\d+: connection refused\.$/);
  }));
