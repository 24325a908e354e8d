/** Scraping a Prometheus text exposition (Ferry's /metrics) and reading its samples. */
import { request } from 'node:http';
import { formatListenAddress, type HostPort } from '../../src/protocol/address.js';

export interface HttpResult {
  status: number;
  contentType: string | undefined;
  body: string;
}

/** One request to the admin listener. */
export function httpGet(address: HostPort, path: string, method = 'GET'): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address.host, port: address.port, path, method, timeout: 10_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'], body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET http://${formatListenAddress(address)}${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Samples by `name{label="value",...}` with the labels sorted by name (`name` alone without labels). */
export type Samples = Map<string, number>;

/** The key a sample is stored under: `sampleKey('ferry_logins_total', { outcome: 'success' })`. */
export function sampleKey(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  return pairs.length ? `${name}{${pairs.join(',')}}` : name;
}

const SAMPLE = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([A-Za-z_]\w*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text format strictly: every line is a comment or a sample, else it throws. */
export function parseExposition(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = JSON.parse(`"${value}"`) as string;
    // Go's ParseFloat, which Prometheus uses, reads NaN in any case (prom-client writes "Nan").
    const nan = /^nan$/i.test(match[3]!);
    const value = nan ? NaN : Number(match[3]);
    if (Number.isNaN(value) && !nan) throw new Error(`not a number: ${JSON.stringify(line)}`);
    samples.set(sampleKey(match[1]!, labels), value);
  }
  return samples;
}

/** GET /metrics, checked to be a 200 in Prometheus's text format, parsed. */
export async function scrape(address: HostPort): Promise<Samples> {
  const result = await httpGet(address, '/metrics');
  if (result.status !== 200) throw new Error(`/metrics answered ${result.status}: ${result.body}`);
  return parseExposition(result.body);
}

/** The samples of one metric whose keys start with `name{`, as key -> value (for exact comparisons of a whole family). */
export function family(samples: Samples, name: string): Record<string, number> {
  return Object.fromEntries([...samples].filter(([key]) => key === name || key.startsWith(`${name}{`)));
}
