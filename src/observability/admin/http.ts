/** Responses of the web admin, all with the same security headers, and small request readers. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Scripts and styles only from this listener (no inline script), no framing, nothing cached. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** A login form or a kick/unban button is small; anything bigger is not ours. */
const MAX_BODY_BYTES = 8 * 1024;

export function send(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': contentType, ...headers });
  response.end(body);
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(response, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`, headers);
}

export function sendHtml(response: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  send(response, status, 'text/html; charset=utf-8', html, headers);
}

/** 303: after a form POST the browser GETs `location`. */
export function redirect(response: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  response.writeHead(303, { ...SECURITY_HEADERS, Location: location, ...headers });
  response.end();
}

/** The fields of an application/x-www-form-urlencoded body; null when it is too big. */
export async function readForm(request: IncomingMessage): Promise<URLSearchParams | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
