/** The doctor's report as text for a person: control, TLS, one line per mode, the recommendation. */
import { daysLeft } from './verdict.js';
import type { DoctorReport, ModeName, ModeReport, TlsReport } from './types.js';

const MARK: Record<ModeReport['verdict'], string> = { ok: '✓', broken: '✗', skipped: '-' };
const INDENT = ' '.repeat(10);

function label(text: string): string {
  return text.padEnd(10);
}

function controlLines(report: DoctorReport): string[] {
  const c = report.control;
  const timing = [c.dnsMs === null ? null : `dns ${c.dnsMs} ms`, c.connectMs === null ? null : `connect ${c.connectMs} ms`].filter(Boolean).join(', ');
  const lines = [`${label('Control')}${MARK[c.verdict === 'ok' ? 'ok' : 'broken']} ${c.host}:${c.port} -> ${c.address || '?'}${timing ? ` (${timing})` : ''}${c.localAddress ? `, from ${c.localAddress}` : ''}`];
  if (c.greeting) lines.push(`${INDENT}greeting: ${c.greeting}`);
  if (c.features.length > 0) lines.push(`${INDENT}features: ${c.features.join(', ')}`);
  if (c.loginReply) lines.push(`${INDENT}login ${c.user}: ${c.login} (${c.loginReply})${c.system ? `; system: ${c.system}` : ''}`);
  if (c.verdict === 'broken') lines.push(`${INDENT}${c.detail}`);
  return lines;
}

function tlsLines(tls: TlsReport): string[] {
  if (tls.mode === 'none') return [`${label('TLS')}- ${tls.detail}`];
  const lines = [`${label('TLS')}${MARK[tls.verdict]} ${tls.mode}${tls.protocol ? ` ${tls.protocol} ${tls.cipher ?? ''}` : ''}${tls.verdict === 'broken' ? ` (${tls.cause})` : ''}`];
  const cert = tls.certificate;
  if (cert) {
    lines.push(`${INDENT}certificate: ${cert.subject}, issued by ${cert.issuer}${cert.selfSigned ? ' (self-signed)' : ''}`);
    lines.push(`${INDENT}names: ${cert.names.join(', ') || 'none'}${cert.nameMatches ? '' : ' (none matches the host)'}`);
    lines.push(`${INDENT}valid until ${cert.validTo.slice(0, 10)} (${daysLeft(cert.daysLeft)}); ${cert.trusted ? 'trusted' : `NOT trusted (${cert.verifyError ?? 'unverified'})`}`);
  }
  if (tls.requiredForLogin) lines.push(`${INDENT}the server refused a plain login (TLS required): logged in with AUTH TLS`);
  if (tls.protocol) lines.push(`${INDENT}data sessions resumed: ${tls.dataSessionResumed === null ? 'not tested' : tls.dataSessionResumed ? 'yes' : 'no'}`);
  else lines.push(`${INDENT}${tls.detail}`);
  return lines;
}

function modeLines(name: ModeName, mode: ModeReport): string[] {
  const verdict = mode.verdict === 'broken' ? `broken (${mode.cause})` : mode.verdict;
  const lines = [`${label(name.toUpperCase())}${MARK[mode.verdict]} ${verdict}: ${mode.detail}`];
  if (mode.fix) lines.push(`${INDENT}fix: ${mode.fix}`);
  return lines;
}

export function renderText(report: DoctorReport): string {
  const lines = [
    ...controlLines(report),
    ...tlsLines(report.tls),
    ...(Object.entries(report.modes) as Array<[ModeName, ModeReport]>).flatMap(([name, mode]) => modeLines(name, mode)),
    '',
    `Recommendation: ${report.recommendation}`,
  ];
  return lines.join('\n') + '\n';
}
