/**
 * Reading a directory tree, remote (LIST/MLSD) or local (readdir, never following a
 * symbolic link), into one flat map: relative "/"-separated path -> what is there,
 * parents before children. Names that could leave the tree are refused here, once, for
 * both sides, so nothing later ever joins an unchecked name to a path.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { FtpClient } from './client.js';
import { FtpClientError } from './errors.js';
import type { RemoteFileType } from './list-parser.js';
import { unsafeNameReason } from './safe-name.js';

export type NodeType = 'file' | 'directory' | 'other';

export interface TreeNode {
  /** Relative to the tree's root, "/"-separated ("sub/file.txt"). */
  path: string;
  /** 'other': a symbolic link, device, socket or anything else that is not copied. */
  type: NodeType;
  size?: number;
  /** Only when known to the second (MLSD modify fact, MDTM, a local stat). */
  modifiedAt?: Date;
}

/** Relative path -> node, parents before their children. */
export type Tree = Map<string, TreeNode>;

/** A name that was not used, and why. */
export interface TreeRefusal {
  /** The folder it was listed in, relative to the tree's root ("" for the root). */
  directory: string;
  name: string;
  reason: string;
}

export interface WalkOptions {
  /** False: leave the entry out (a folder with everything in it). */
  filter: (path: string, isDirectory: boolean) => boolean;
  refuse: (refusal: TreeRefusal) => void;
}

/**
 * Deeper than this is refused: a hostile server can invent folders inside folders
 * forever, and a real tree this deep is almost certainly a loop.
 */
export const MAX_DEPTH = 64;

/** Joins a relative path to a remote folder ("" is the login directory). */
export function joinRemote(root: string, path: string): string {
  if (path === '') return root;
  if (root === '') return path;
  return `${root.replace(/\/+$/, '')}/${path}`;
}

function childPath(directory: string, name: string): string {
  return directory === '' ? name : `${directory}/${name}`;
}

/** Checks a name, the depth and the filter; the child's relative path when it is walked. */
function admit(options: WalkOptions, directory: string, name: string, isDirectory: boolean, depth: number): string | undefined {
  const reason = unsafeNameReason(name) ?? (isDirectory && depth >= MAX_DEPTH ? `nested deeper than ${MAX_DEPTH} folders` : undefined);
  if (reason) {
    options.refuse({ directory, name, reason });
    return undefined;
  }
  const path = childPath(directory, name);
  return options.filter(path, isDirectory) ? path : undefined;
}

/**
 * The remote tree under `root`. With `times`, a server without MLSD is asked MDTM for
 * each file (when it offers MDTM): LIST dates are only to the minute, or the day.
 * A root that does not exist is an error unless `missingIsEmpty`.
 */
export async function walkRemote(client: FtpClient, root: string, options: WalkOptions & { times: boolean; missingIsEmpty?: boolean }): Promise<Tree> {
  const tree: Tree = new Map();
  const preciseListing = client.features.has('MLST');
  const askMdtm = options.times && !preciseListing && client.features.has('MDTM');
  const walk = async (directory: string, depth: number): Promise<void> => {
    for (const entry of await client.list(joinRemote(root, directory))) {
      const isDirectory = entry.type === 'directory';
      const path = admit(options, directory, entry.name, isDirectory, depth);
      if (path === undefined) continue;
      const type: NodeType = isDirectory ? 'directory' : entry.type === 'file' ? 'file' : 'other';
      const node: TreeNode = { path, type, size: entry.size };
      if (type === 'file') {
        if (preciseListing) node.modifiedAt = entry.modifiedAt;
        else if (askMdtm) node.modifiedAt = await client.lastModified(joinRemote(root, path)).catch(() => undefined);
      }
      tree.set(path, node);
      if (isDirectory) await walk(path, depth + 1);
    }
  };
  try {
    await walk('', 0);
  } catch (error) {
    if (options.missingIsEmpty && tree.size === 0 && error instanceof FtpClientError && error.kind === 'not-found') return tree;
    throw error;
  }
  return tree;
}

/**
 * The local tree under `root`; symbolic links are 'other', never followed. A missing root
 * is an empty tree only with `missingIsEmpty` (a download's target): as an upload's
 * source it is kind 'not-found', or `mirror -R --delete ./typo` would empty the server.
 */
export async function walkLocal(root: string, options: WalkOptions & { missingIsEmpty?: boolean }): Promise<Tree> {
  const tree: Tree = new Map();
  const walk = async (directory: string, depth: number): Promise<void> => {
    for (const entry of await fs.readdir(join(root, directory), { withFileTypes: true })) {
      const isDirectory = entry.isDirectory();
      const path = admit(options, directory, entry.name, isDirectory, depth);
      if (path === undefined) continue;
      if (entry.isFile()) {
        const stat = await fs.lstat(join(root, path));
        tree.set(path, { path, type: 'file', size: stat.size, modifiedAt: stat.mtime });
      } else {
        tree.set(path, { path, type: isDirectory ? 'directory' : 'other' });
        if (isDirectory) await walk(path, depth + 1);
      }
    }
  };
  try {
    await walk('', 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (tree.size === 0 && code === 'ENOENT' && options.missingIsEmpty) return tree;
    if (tree.size === 0 && (code === 'ENOENT' || code === 'ENOTDIR')) throw new FtpClientError('not-found', `${root}: ${code === 'ENOENT' ? 'No such file or directory' : 'Not a directory'}`, undefined, { cause: error });
    throw error;
  }
  return tree;
}

/**
 * Rejects unless the remote `root` is a folder. A server without MLSD lists a file as a
 * one-entry folder, so `mirror --delete ftp://h/site/index.html ./www` would delete
 * everything else in ./www. "" (the login directory) is one. An MLST reply the client
 * cannot read (some servers answer type=cdir) proves nothing: then the walk decides,
 * and MLSD on a file fails there (RFC 3659 7.1).
 */
export async function assertRemoteFolder(client: FtpClient, root: string): Promise<void> {
  if (root === '' || root === '/') return;
  let type: RemoteFileType;
  try {
    type = (await client.stat(root)).type;
  } catch (error) {
    if (error instanceof FtpClientError && error.kind === 'protocol') return;
    throw error;
  }
  // Only a file is refused: a link or an unknown type may well lead to a folder (the walk follows it on the server).
  if (type === 'file') throw new FtpClientError('not-found', `${root}: Not a directory (a tree transfer needs a folder)`);
}
