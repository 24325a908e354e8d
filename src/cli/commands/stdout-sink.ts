/**
 * stdout as a download's destination (`ferry get URL -`): a Writable per try that hands
 * every chunk to process.stdout and never ends it (so several files can follow each other
 * and the summary stream stays open), counting the bytes handed over so a retry resumes
 * right after them. A chunk is counted when handed over, not when flushed: stdout keeps
 * what it was given even when the transfer fails.
 */
import { Writable } from 'node:stream';

export class StdoutSink {
  written = 0;

  /** A fresh stream for one try (a failed try destroys its stream). */
  stream(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.written += chunk.length;
        process.stdout.write(chunk, (error) => callback(error ?? null));
      },
    });
  }
}
