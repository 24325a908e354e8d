/**
 * The web admin in a real browser: Debian's chromium (FERRY_CHROMIUM, else
 * /usr/bin/chromium), driven by playwright-core, which downloads no browser. The test logs
 * in through the form, starts a download the FTP client reads slowly, watches its row
 * appear and its byte count grow, saves a screenshot (its path is in the test log; kept
 * when FERRY_KEEP_SCREENSHOTS=1, else removed with its folder), and kicks the session.
 * The file's name is HTML: the page must show it as text, and nothing may pop up.
 * Skipped, saying so, when chromium is missing (.ci/run installs it).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { PASSWORD, USER } from '../helpers/server.js';
import { ADMIN_PASSWORD, ADMIN_USER, startAdminServer, startSlowDownload } from '../helpers/web-admin.js';

const CHROMIUM = process.env.FERRY_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (apt-get install chromium, or set FERRY_CHROMIUM)`;
const FILE_NAME = '<img src=x onerror=alert(1)>.bin';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Generous: a loaded CI machine polls and renders slowly. */
const UI_TIMEOUT_MS = 20_000;

describe('web admin in chromium', { skip }, () => {
  test('log in, see a live transfer with a growing byte count, screenshot, kick it', async (t) => {
    const server = await startAdminServer();
    const shots = mkdtempSync(join(tmpdir(), 'ferry-web-admin-'));
    let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
    let download: Awaited<ReturnType<typeof startSlowDownload>> | undefined;
    try {
      // Inside the try: a browser that fails to launch must not leave the server and the folder behind.
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));

      await page.goto(`${server.base}/`);
      assert.match(page.url(), /\/login$/);
      await page.fill('input[name="user"]', ADMIN_USER);
      await page.fill('input[name="password"]', ADMIN_PASSWORD);
      await Promise.all([page.waitForURL(`${server.base}/`), page.click('button[type="submit"]')]);
      await page.waitForSelector('h2:text("Sessions")');

      download = await startSlowDownload(server, FILE_NAME, USER, PASSWORD);
      // The row once it shows the download: a poll between the login and RETR shows alice without it.
      const row = page.locator('#sessions tr', { hasText: USER }).filter({ has: page.locator('td[data-field="command"]', { hasText: 'RETR' }) });
      await row.waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await row.locator('td[data-field="path"]').textContent(), `/${FILE_NAME}`, 'the name is shown as text');
      assert.equal(await page.locator('#sessions img').count(), 0, 'the name made no element');
      assert.equal(await row.locator('td[data-field="command"]').textContent(), 'RETR');

      const bytes = async () => Number(await row.locator('td[data-field="bytes"]').textContent());
      await page.waitForFunction(() => Number(document.querySelector('#sessions td[data-field="bytes"]')?.textContent) > 0, undefined, { timeout: UI_TIMEOUT_MS });
      const first = await bytes();
      await page.waitForFunction((before) => Number(document.querySelector('#sessions td[data-field="bytes"]')?.textContent) > before, first, { timeout: UI_TIMEOUT_MS });
      const second = await bytes();
      assert.ok(second > first, `the byte count grew: ${first} -> ${second}`);

      const screenshot = join(shots, 'dashboard.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      t.diagnostic(`screenshot: ${screenshot}`);
      assert.ok(readFileSync(screenshot).subarray(0, 8).equals(PNG_SIGNATURE), 'a PNG');
      assert.ok(statSync(screenshot).size > 10_000, `a real picture (${statSync(screenshot).size} bytes)`);

      await Promise.all([page.waitForURL(`${server.base}/`), row.locator('button', { hasText: 'Kick' }).click()]);
      assert.equal((await download.ftp.read()).code, 421);
      assert.ok(await download.ftp.closedByServer(5000), 'the control connection is closed');
      await page.waitForFunction(() => document.querySelectorAll('#sessions tr').length === 0, undefined, { timeout: UI_TIMEOUT_MS });

      assert.deepEqual(dialogs, [], 'no script ran from the name');
      assert.deepEqual(pageErrors, []);
    } finally {
      download?.ftp.close();
      await browser?.close();
      await server.stop();
      if (process.env.FERRY_KEEP_SCREENSHOTS !== '1') rmSync(shots, { recursive: true, force: true });
    }
  });
});
