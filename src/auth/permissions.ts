/**
 * Per-user permissions: what each command family may do. Checked by the session's
 * policy chain before a handler runs, so no command re-implements it.
 */
export const PERMISSIONS = ['list', 'read', 'write', 'delete', 'rename', 'mkdir'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const READ_ONLY: ReadonlySet<Permission> = new Set<Permission>(['list', 'read']);
export const READ_WRITE: ReadonlySet<Permission> = new Set<Permission>(PERMISSIONS);
