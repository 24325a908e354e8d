/** Runs a URL hook: POSTs the event as JSON; an HTTP status of 400 or more, or the timeout, is a failure. */
import type { HookEvent } from './hook-event.js';

export async function postHook(url: string, event: HookEvent, timeoutMs: number): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const name = (error as Error).name;
    throw new Error(name === 'TimeoutError' ? `timed out after ${timeoutMs} ms (aborted)` : `POST failed: ${(error as Error).cause ?? (error as Error).message}`);
  }
  // Drained, so the connection is released.
  await response.arrayBuffer().catch(() => undefined);
  if (response.status >= 400) throw new Error(`HTTP status ${response.status}`);
}
