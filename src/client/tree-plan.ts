/**
 * What a tree transfer will do, decided from the two trees alone (no I/O): which folders
 * to create, which files to send whole or resume, which to skip, which target entries to
 * delete and which source entries cannot be copied. The same plan is carried out, or only
 * printed with a dry run.
 */
import type { NodeType, Tree, TreeNode, TreeRefusal } from './tree-walk.js';

export interface PlanOptions {
  /** Transfer a file only when the source is newer (to the second); without both times, when the sizes differ. */
  onlyNewer: boolean;
  /** A target file of the same size is complete; a smaller one is resumed. */
  resume: boolean;
  /** Target entries that are not in the source are deleted; a type clash deletes the target entry. */
  delete: boolean;
}

export interface PlannedFile {
  path: string;
  size?: number;
  modifiedAt?: Date;
  /** Resume at this offset. */
  startAt?: number;
}

export interface SkippedFile {
  path: string;
  size?: number;
  reason: 'complete' | 'not newer';
}

export interface Plan {
  /** Folders to create in the target, parents first. */
  directories: string[];
  transfers: PlannedFile[];
  skipped: SkippedFile[];
  /**
   * Target entries of another type where the source has an entry (a folder where the
   * source has a file): deleted first, since the source's entry goes in their place.
   */
  replacements: TreeNode[];
  /**
   * Target entries the source does not have (the topmost of each deleted subtree only):
   * deleted after the transfers, as lftp does, so a mirror failing halfway has lost nothing.
   */
  deletions: TreeNode[];
  refusals: TreeRefusal[];
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

const DESCRIBE: Record<NodeType, string> = { file: 'a file', directory: 'a folder', other: 'a symbolic link or special file' };

/** 1 when the source is newer, 0 for the same second, -1 older, undefined when a time is unknown. */
function compareSeconds(source: Date | undefined, target: Date | undefined): number | undefined {
  if (!source || !target) return undefined;
  return Math.sign(Math.floor(source.getTime() / 1000) - Math.floor(target.getTime() / 1000));
}

function decide(source: TreeNode, target: TreeNode | undefined, options: PlanOptions): PlannedFile | SkippedFile {
  const planned: PlannedFile = { path: source.path, size: source.size, modifiedAt: source.modifiedAt };
  if (!target || source.size === undefined || target.size === undefined) return planned;
  const newer = compareSeconds(source.modifiedAt, target.modifiedAt);
  // A source known to be newer is a new version: never "complete", never resumed.
  if (options.resume && newer !== 1) {
    if (target.size === source.size) return { path: source.path, size: source.size, reason: 'complete' };
    if (target.size < source.size) return { ...planned, startAt: target.size };
  }
  // lftp's -n: a target that is not older stays, whatever its size; only without times does the size decide.
  const notNewer = newer === 0 || newer === -1 || (newer === undefined && target.size === source.size);
  if (options.onlyNewer && notNewer) return { path: source.path, size: source.size, reason: 'not newer' };
  return planned;
}

export function planTree(source: Tree, target: Tree, options: PlanOptions): Plan {
  const plan: Plan = { directories: [], transfers: [], skipped: [], replacements: [], deletions: [], refusals: [] };
  /** Source entries not copied (refused): neither their contents nor what the target has there is touched. */
  const blocked = new Set<string>();
  /** Target paths already planned for deletion, so nothing under them is listed again. */
  const deleted = new Set<string>();
  for (const node of source.values()) {
    const parent = parentOf(node.path);
    if (blocked.has(parent)) {
      blocked.add(node.path);
      continue;
    }
    const refuse = (reason: string) => {
      plan.refusals.push({ directory: parent, name: nameOf(node.path), reason });
      blocked.add(node.path);
    };
    if (node.type === 'other') {
      refuse('a symbolic link or special file (not copied)');
      continue;
    }
    let existing = target.get(node.path);
    if (existing && existing.type !== node.type) {
      if (!options.delete) {
        refuse(`the target is ${DESCRIBE[existing.type]} (not replaced without --delete)`);
        continue;
      }
      plan.replacements.push(existing);
      deleted.add(existing.path);
      existing = undefined;
    }
    if (node.type === 'directory') {
      if (!existing) plan.directories.push(node.path);
      continue;
    }
    const decision = decide(node, existing, options);
    if ('reason' in decision) plan.skipped.push(decision);
    else plan.transfers.push(decision);
  }
  if (options.delete) {
    for (const node of target.values()) {
      const parent = parentOf(node.path);
      if (deleted.has(parent)) deleted.add(node.path);
      else if (blocked.has(parent)) blocked.add(node.path);
      else if (!source.has(node.path)) {
        plan.deletions.push(node);
        deleted.add(node.path);
      }
    }
  }
  return plan;
}
