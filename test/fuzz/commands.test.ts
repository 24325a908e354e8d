/**
 * Property-based fuzzing of a live server: random and adversarial command sequences
 * (every verb of the command table and unknown ones, hostile arguments, broken framing,
 * pipelining, passive storms, transfers broken in every way). After every sequence:
 * every reply was well framed (RFC 959 4.2), the server still serves a second client
 * within 1 s, nothing outside the root changed or leaked, no PORT bounced, no upload from
 * a foreign passive peer landed, read-only and anonymous sessions changed nothing, and
 * every session went away with its socket.
 *
 * Bounded: FERRY_FUZZ_SECONDS of search (default 25), FERRY_FUZZ_RUNS sequences at most,
 * FERRY_FUZZ_STEPS steps per sequence, 15 s of shrinking on failure. `npm run fuzz` runs
 * it for 5 minutes. FERRY_FUZZ_SEED and FERRY_FUZZ_PATH replay a reported failure.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { treeHashes } from '../helpers/data.js';
import { sequenceArbitrary } from './arbitraries.js';
import { checkBounded } from './bounded-check.js';
import { FuzzSession } from './fuzz-session.js';
import type { Sequence } from './steps.js';
import { FuzzWorld, SENTINEL_DIR } from './world.js';

const SEARCH_SECONDS = Number(process.env.FERRY_FUZZ_SECONDS ?? 25);
const RUNS = Number(process.env.FERRY_FUZZ_RUNS ?? 2000);
const MAX_STEPS = Number(process.env.FERRY_FUZZ_STEPS ?? 20);
const SEED = process.env.FERRY_FUZZ_SEED === undefined ? undefined : Number(process.env.FERRY_FUZZ_SEED);

let world: FuzzWorld;

before(async () => {
  world = await FuzzWorld.create();
});

after(async () => {
  await world.close();
});

/** Only alice may write, and a sequence that never sends USER stays whoever logged in first. */
function mayWrite(sequence: Sequence): boolean {
  return sequence.login === 'alice' || sequence.steps.some((step) => step.kind === 'send' && step.lines.some((line) => line.verb.toUpperCase().includes('USER')));
}

async function runSequence(sequence: Sequence): Promise<void> {
  world.resetRoot();
  const rootBefore = mayWrite(sequence) ? null : JSON.stringify(treeHashes(world.server.root));
  const bouncesBefore = world.bounces;
  const problems: string[] = [];
  const session = await FuzzSession.open(world);
  try {
    await session.login(sequence.login);
    for (const step of sequence.steps) {
      if (!session.usable) break;
      await session.run(step);
    }
    // Checked while the fuzzing session is still connected, in whatever state it is left.
    const liveness = await world.livenessFailure();
    if (liveness) problems.push(liveness);
    problems.push(...session.stream.framingErrors.map((error) => `framing: ${error}`), ...session.violations, ...session.controlLeaks());
  } finally {
    session.close();
  }
  if (!(await world.sessionsDrained())) problems.push(`${world.server.server.sessionCount} session(s) outlived their control connection`);
  if (world.bounces > bouncesBefore) problems.push(`the server connected to a refused PORT/EPRT target (${world.bounces - bouncesBefore} time(s))`);
  problems.push(...world.outsideChanges());
  problems.push(...world.foreignUploads().map((file) => `an upload from a foreign passive peer landed in ${file}`));
  if (rootBefore !== null && JSON.stringify(treeHashes(world.server.root)) !== rootBefore) problems.push(`a ${sequence.login} session changed the root`);
  assert.deepEqual(problems, []);
}

test('random and adversarial command sequences never break framing, the server, or the root', async () => {
  const arbitrary = sequenceArbitrary({ verbs: world.verbs, trapPort: world.trapPort, sentinelDir: SENTINEL_DIR }, MAX_STEPS);
  const result = await checkBounded(arbitrary, runSequence, {
    runs: RUNS,
    searchMs: SEARCH_SECONDS * 1000,
    shrinkMs: 15_000,
    runTimeoutMs: 60_000,
    seed: SEED,
    path: process.env.FERRY_FUZZ_PATH,
  });
  process.stderr.write(`fuzz: ${result.runs} sequences (seed ${result.seed})\n`);
  assert.ok(result.runs > 0);
});
