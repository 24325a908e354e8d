import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, USER, PASSWORD } from '../helpers/server.js';
import { FtpConnection, DATA_MODES } from '../helpers/ftp-connection.js';

test('download and upload in every data mode', async () => {
  const server = await startServer();
  try {
    writeFileSync(join(server.root, 'a.txt'), 'hello\n');
    const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
    await ftp.expect('TYPE I', 200);
    for (const mode of DATA_MODES) {
      const { data, final } = await ftp.download('RETR a.txt', mode);
      assert.equal(data.toString(), 'hello\n', mode);
      assert.equal(final.code, 226);
      const up = await ftp.upload(`STOR up-${mode}.bin`, Buffer.from(mode), mode);
      assert.equal(up.final.code, 226);
    }
    await ftp.quit();
  } finally {
    await server.stop();
  }
});
