/**
 * The pure parts of tree transfers: which listing names are refused (basic-ftp
 * CVE-2026-27699's cases and more), the inside-the-root check, and the plan a tree
 * transfer makes from the two trees (resume, only-newer, delete, type clashes, refusals).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { formatSummary } from '../../src/cli/mirror-summary.js';
import { isSafeName } from '../../src/client/client.js';
import { isInside, unsafeNameReason } from '../../src/client/safe-name.js';
import { planTree, type PlanOptions } from '../../src/client/tree-plan.js';
import type { Tree, TreeNode } from '../../src/client/tree-walk.js';

const T0 = new Date(Date.UTC(2024, 0, 1, 12, 0, 0));
const LATER = new Date(T0.getTime() + 60_000);

function tree(...nodes: TreeNode[]): Tree {
  return new Map(nodes.map((node) => [node.path, node]));
}

/** `modifiedAt` null: a file whose time is unknown. */
const file = (path: string, size: number, modifiedAt: Date | null = T0): TreeNode => ({ path, type: 'file', size, modifiedAt: modifiedAt ?? undefined });
const dir = (path: string): TreeNode => ({ path, type: 'directory' });
const other = (path: string): TreeNode => ({ path, type: 'other' });
const plain: PlanOptions = { onlyNewer: false, resume: false, delete: false };

describe('unsafeNameReason', () => {
  test('refuses names that could leave a folder, on every platform', () => {
    for (const name of ['', '.', '..', '../x', 'a/b', '/etc/passwd', 'x\\y', '..\\x', 'C:x', 'c:', 'a\rb', 'a\nb', 'a\0b', '\u0001', 'del\u007f', 'tab\tname']) {
      assert.ok(unsafeNameReason(name, 'linux'), `refused on linux: ${JSON.stringify(name)}`);
      assert.ok(unsafeNameReason(name, 'win32'), `refused on win32: ${JSON.stringify(name)}`);
    }
  });

  test('Windows also refuses ":" anywhere and names of only dots and spaces', () => {
    for (const name of ['ab:c', 'file.txt:stream', '...', '.. ', ' ']) {
      assert.ok(unsafeNameReason(name, 'win32'), JSON.stringify(name));
      assert.equal(unsafeNameReason(name, 'linux'), undefined, JSON.stringify(name));
    }
  });

  test('accepts ordinary names: dots inside, spaces, Unicode, a leading dot', () => {
    for (const name of ['a.txt', '...x', '.hidden', 'name with spaces', '中文 名.bin', 'a..b', '1:2']) {
      assert.equal(unsafeNameReason(name, 'linux'), undefined, JSON.stringify(name));
    }
  });

  test('isSafeName (the library export) is the same rule', () => {
    for (const name of ['C:x', 'tab\tname', 'del\u007f', '\u0001', '..', 'a/b']) assert.equal(isSafeName(name), false, JSON.stringify(name));
    for (const name of ['a.txt', '.hidden', '中文 名.bin', '1:2']) assert.equal(isSafeName(name), true, JSON.stringify(name));
  });

  test('isInside: the root and below only', () => {
    const root = resolve('/srv/target');
    assert.ok(isInside(root, root));
    assert.ok(isInside(root, join(root, 'a', 'b')));
    assert.ok(isInside(root, join(root, '..x')));
    assert.ok(!isInside(root, resolve(root, '..')));
    assert.ok(!isInside(root, resolve(root, '..', 'target-other')));
    assert.ok(!isInside(root, resolve('/etc/passwd')));
  });
});

describe('planTree', () => {
  test('a new tree: every folder created, every file transferred, parents first', () => {
    const plan = planTree(tree(dir('a'), file('a/x', 3), dir('a/b'), file('a/b/y', 0), file('top', 5)), tree(), plain);
    assert.deepEqual(plan.directories, ['a', 'a/b']);
    assert.deepEqual(plan.transfers.map((t) => t.path), ['a/x', 'a/b/y', 'top']);
    assert.deepEqual([plan.skipped, plan.replacements, plan.deletions, plan.refusals], [[], [], [], []]);
  });

  test('without options every existing file is sent again, whole', () => {
    const plan = planTree(tree(file('x', 10)), tree(file('x', 4)), plain);
    assert.deepEqual(plan.transfers, [{ path: 'x', size: 10, modifiedAt: T0 }]);
  });

  test('resume: same size skipped as complete, smaller resumed, larger sent whole, a newer source sent whole', () => {
    const source = tree(file('same', 10), file('short', 10), file('long', 10), file('newer', 10, LATER), file('newer-same', 10, LATER));
    const target = tree(file('same', 10), file('short', 4), file('long', 20), file('newer', 4), file('newer-same', 10));
    const plan = planTree(source, target, { ...plain, resume: true });
    assert.deepEqual(plan.skipped, [{ path: 'same', size: 10, reason: 'complete' }]);
    assert.deepEqual(
      plan.transfers.map((t) => [t.path, t.startAt]),
      [['short', 4], ['long', undefined], ['newer', undefined], ['newer-same', undefined]],
    );
  });

  test('only-newer (lftp -n): skipped whenever the source is not newer (to the second), whatever the sizes; sent when newer; without times, sent when the size differs', () => {
    const sameSecond = new Date(T0.getTime() + 999);
    const source = tree(
      file('old', 5),
      file('same-second', 5, sameSecond),
      file('newer', 5, LATER),
      file('resized-target-newer', 6),
      file('resized-same-time', 6),
      file('resized-newer', 6, LATER),
      file('no-time', 5, null),
      file('no-time-resized', 6, null),
    );
    const target = tree(
      file('old', 5, LATER),
      file('same-second', 5),
      file('newer', 5),
      file('resized-target-newer', 5, LATER),
      file('resized-same-time', 5),
      file('resized-newer', 5),
      file('no-time', 5),
      file('no-time-resized', 5),
    );
    const plan = planTree(source, target, { ...plain, onlyNewer: true });
    assert.deepEqual(plan.skipped.map((s) => [s.path, s.reason]), [
      ['old', 'not newer'],
      ['same-second', 'not newer'],
      ['resized-target-newer', 'not newer'],
      ['resized-same-time', 'not newer'],
      ['no-time', 'not newer'],
    ]);
    assert.deepEqual(plan.transfers.map((t) => t.path), ['newer', 'resized-newer', 'no-time-resized']);
  });

  test('delete: target-only entries go, topmost only; kept entries stay', () => {
    const source = tree(dir('keep'), file('keep/a', 1));
    const target = tree(dir('keep'), file('keep/a', 1), file('keep/extra', 1), dir('gone'), file('gone/x', 1), dir('gone/deeper'), file('gone/deeper/y', 1), other('link'));
    const plan = planTree(source, target, { ...plain, delete: true });
    assert.deepEqual(plan.deletions.map((n) => n.path), ['keep/extra', 'gone', 'link']);
    const without = planTree(source, target, plain);
    assert.deepEqual(without.deletions, []);
  });

  test('a type clash is refused without delete (and nothing under it is touched), replaced with delete', () => {
    const source = tree(file('x', 1), dir('d'), file('d/inner', 1), dir('l'), file('l/inner', 1));
    const target = tree(dir('x'), file('x/old', 1), file('d', 1), other('l'));
    const refused = planTree(source, target, plain);
    assert.deepEqual(refused.refusals.map((r) => [r.name, r.reason]), [
      ['x', 'the target is a folder (not replaced without --delete)'],
      ['d', 'the target is a file (not replaced without --delete)'],
      ['l', 'the target is a symbolic link or special file (not replaced without --delete)'],
    ]);
    assert.deepEqual([refused.transfers, refused.directories], [[], []], 'nothing under a refused folder is transferred');
    const replaced = planTree(source, target, { ...plain, delete: true });
    assert.deepEqual(replaced.replacements.map((n) => n.path), ['x', 'd', 'l'], 'x/old goes with x, not on its own');
    assert.deepEqual(replaced.deletions, [], 'replacements are not among the deletions that run last');
    assert.deepEqual(replaced.directories, ['d', 'l']);
    assert.deepEqual(replaced.transfers.map((t) => t.path), ['x', 'd/inner', 'l/inner']);
  });

  test('a source symbolic link is refused, and what the target has there is kept even with delete', () => {
    const plan = planTree(tree(other('link'), file('a', 1)), tree(dir('link'), file('link/inside', 1)), { ...plain, delete: true });
    assert.deepEqual(plan.refusals.map((r) => r.name), ['link']);
    assert.deepEqual(plan.deletions, []);
    assert.deepEqual(plan.transfers.map((t) => t.path), ['a']);
  });
});

describe('the mirror summary line', () => {
  test('sizes and rates in units.ts humanBytes: 999999 bytes is 1.0 MB, not 1000.0 kB', () => {
    const result = { transferred: 2, skipped: 1, deleted: 0, refused: 0, bytes: 999_999, elapsedMs: 1000 };
    assert.equal(formatSummary(result, false), 'mirror: 2 files (1 skipped, 0 deleted), 1.0 MB in 1.0 s, 1.0 MB/s');
    assert.equal(formatSummary(result, true), 'mirror: dry run, nothing changed: would transfer 2 files (1 skipped, 0 deleted), 1.0 MB');
  });
});
