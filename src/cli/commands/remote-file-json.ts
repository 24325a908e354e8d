/** The JSON form of a listing entry for `ls --json` and `stat --json`: one object per line. */
import type { RemoteFile } from '../../client/list-parser.js';

export function remoteFileJson(file: RemoteFile): string {
  return JSON.stringify({
    name: file.name,
    type: file.type,
    size: file.size ?? null,
    modified: file.modifiedAt?.toISOString() ?? null,
    permissions: file.permissions ?? null,
    ...(file.target === undefined ? {} : { target: file.target }),
  });
}
