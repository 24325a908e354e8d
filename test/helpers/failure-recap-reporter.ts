// The test command's reporter: node's TAP output, with every failed test recalled (its
// full name, file and error) just before the runner's summary lines.
//
// Why: a CI log is often kept only as its tail, and a failure deep in 1,400 tests' output
// is then lost. Recalled as TAP diagnostics right above "# tests N", the failure survives
// any tail that still has the summary, and the output still ends with the summary.
import { tap } from 'node:test/reporters';

interface ReporterEvent {
  type: string;
  data: {
    name?: string;
    nesting?: number;
    file?: string;
    line?: number;
    message?: string;
    details?: { error?: unknown };
  };
}

const MAX_RECALLED = 40;
const MAX_ERROR_LINES = 14;

export default async function* failureRecapReporter(
  source: AsyncIterable<ReporterEvent>,
): AsyncGenerator<string> {
  yield* tap(withRecap(source) as never) as AsyncIterable<string>;
}

async function* withRecap(source: AsyncIterable<ReporterEvent>): AsyncGenerator<ReporterEvent> {
  const namesByFile = new Map<string, string[]>();
  const recalled: string[][] = [];
  let failed = 0;
  const summary: ReporterEvent[] = [];
  for await (const event of source) {
    const { data } = event;
    const file = data.file ?? '';
    if (event.type === 'test:start' && data.name !== undefined) {
      const path = namesByFile.get(file) ?? [];
      path.length = data.nesting ?? 0;
      path.push(data.name);
      namesByFile.set(file, path);
    } else if (event.type === 'test:fail' && !isFailureOfSubtests(data.details?.error)) {
      failed += 1;
      if (recalled.length < MAX_RECALLED) {
        const path = (namesByFile.get(file) ?? []).slice(0, data.nesting ?? 0);
        recalled.push(describeFailure([...path, data.name ?? '?'], data, file));
      }
    } else if (event.type === 'test:diagnostic' && data.nesting === 0 && data.file === undefined) {
      // The runner's own summary ("tests N", "pass N", ...): held back to come last.
      summary.push(event);
      continue;
    }
    yield event;
  }
  if (failed > 0) {
    yield diagnostic(`failed tests (${failed}${failed > recalled.length ? `, the first ${recalled.length} shown` : ''}):`);
    for (const lines of recalled) for (const line of lines) yield diagnostic(line);
  }
  yield* summary;
}

function describeFailure(path: string[], data: ReporterEvent['data'], file: string): string[] {
  const where = file === '' ? '' : ` (${file}${data.line === undefined ? '' : `:${data.line}`})`;
  const lines = [`✖ ${path.join(' › ')}${where}`];
  const text = errorText(data.details?.error).split('\n').filter((line) => !isRunnerFrame(line));
  for (const line of text.slice(0, MAX_ERROR_LINES)) {
    lines.push(`    ${line}`);
  }
  return lines;
}

// The runner wraps a test's own error (as `cause`) in one that names the failure's kind.
function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const inner = error.cause instanceof Error ? error.cause : error;
  return inner.stack ?? `${inner.name}: ${inner.message}`;
}

// Frames of node's own test runner say nothing about the failure.
function isRunnerFrame(line: string): boolean {
  return /^\s+at .*\((node:internal\/|node:async_hooks)/.test(line) || /^\s+at async Promise\.all/.test(line);
}

function isFailureOfSubtests(error: unknown): boolean {
  return (error as { failureType?: unknown } | undefined)?.failureType === 'subtestsFailed';
}

function diagnostic(message: string): ReporterEvent {
  return { type: 'test:diagnostic', data: { nesting: 0, message } };
}
