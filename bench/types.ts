/** What the benchmark needs from a server under test. */
export interface ServerSetup {
  /** Folder every server serves (the test files live here). */
  root: string;
  workDir: string;
  user: string;
  password: string;
  cert: string;
  key: string;
  maxFiles: number;
}

/** The servers the bench knows, Ferry first; the others are the peers it is compared with. */
export const SERVER_NAMES = ['ferry', 'vsftpd', 'proftpd', 'pureftpd'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

export interface BenchServer {
  name: ServerName;
  port: number;
  /** The process whose tree holds every session (the peers fork per session). */
  pid: number;
  /** The login to use against this server. */
  user: string;
  password: string;
  stop(): Promise<void>;
}
