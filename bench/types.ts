/** What the benchmark needs from a server under test. */
export interface ServerSetup {
  /** Folder both servers serve (the test files live here). */
  root: string;
  workDir: string;
  user: string;
  password: string;
  cert: string;
  key: string;
  maxFiles: number;
}

export interface BenchServer {
  name: 'ferry' | 'vsftpd';
  port: number;
  /** The process whose tree holds every session (vsftpd forks per session). */
  pid: number;
  /** The login to use against this server. */
  user: string;
  password: string;
  stop(): Promise<void>;
}
