import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../helpers/run-process.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';

const reporter = fileURLToPath(new URL('../helpers/failure-recap-reporter.js', import.meta.url));
const scratch = scratchDirForFile('ferry-recap-');

const FIXTURE = `
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
describe('outer', () => {
  describe('inner', () => {
    it('passes', () => {});
    it('compares', () => { assert.equal(1, 2, 'numbers differ'); });
  });
});
it('alone', () => { throw new Error('boom'); });
it('fine', () => {});
`;

async function runFixture(source: string): Promise<string[]> {
  const file = join(scratch(), `fixture-${Math.random().toString(36).slice(2)}.test.mjs`);
  writeFileSync(file, source);
  // Without NODE_TEST_CONTEXT the child is a test command of its own, not a file of ours.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const run = await runProcess(process.execPath, ['--test', `--test-reporter=${reporter}`, file], { env });
  return run.stdout.toString().trimEnd().split('\n');
}

describe('the test command reporter (failure recap)', () => {
  it('recalls each failed test by its full name, file and error, right above the summary, which still ends the output', async () => {
    const lines = await runFixture(FIXTURE);
    assert.equal(lines[0], 'TAP version 13');
    assert.match(lines.at(-1) ?? '', /^# duration_ms /);
    const recap = lines.indexOf('# failed tests (2):');
    const summary = lines.findIndex((line) => line.startsWith('# tests '));
    assert.ok(recap > 0 && recap < summary, lines.join('\n'));
    const recalled = lines.slice(recap, summary).join('\n');
    assert.match(recalled, /^# ✖ outer › inner › compares \(.*fixture-.*\.test\.mjs:7\)$/m);
    assert.match(recalled, /^# {5}AssertionError \[ERR_ASSERTION\]: numbers differ$/m);
    assert.match(recalled, /^# ✖ alone \(.*:10\)$/m);
    assert.match(recalled, /^# {5}Error: boom$/m);
    assert.doesNotMatch(recalled, /node:internal|✖ outer \(|✖ outer › inner \(/, 'suites failed only by their tests are not recalled, nor runner frames');
    assert.equal(lines.filter((line) => line.trimStart().startsWith('not ok')).length, 4, 'the TAP itself is unchanged');
  });

  it('adds nothing when every test passes', async () => {
    const lines = await runFixture(`import { it } from 'node:test'; it('fine', () => {});`);
    assert.equal(lines.filter((line) => line.startsWith('# failed tests')).length, 0);
    assert.match(lines.at(-1) ?? '', /^# duration_ms /);
  });
});
