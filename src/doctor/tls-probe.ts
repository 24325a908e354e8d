/**
 * What the control connection's TLS handshake shows: protocol, cipher, and the
 * certificate chain judged three ways (trusted by the system CAs or --ca, naming the
 * host, in date). The handshake itself runs with verification off so that an untrusted
 * certificate is reported, not fatal to the rest of the diagnosis.
 */
import { checkServerIdentity, rootCertificates, type DetailedPeerCertificate, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { CertificateFacts } from './types.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Verification errors that say "no CA vouches for this" (rather than a name or date problem). */
const SELF_SIGNED_ERRORS = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN']);
/** Node's name check, which `nameMatches` reports on its own. */
const NAME_ERROR = 'ERR_TLS_CERT_ALTNAME_INVALID';

/** The CAs to verify against: the system's, plus the one given with --ca. */
export function trustAnchors(caPem: string | undefined): string[] | undefined {
  return caPem === undefined ? undefined : [...rootCertificates, caPem];
}

function distinguishedName(name: PeerCertificate['subject'] | undefined): string {
  if (!name) return '';
  return Object.entries(name)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`)
    .join(', ');
}

/** SAN entries without their "DNS:" / "IP Address:" prefixes; the CN when there are none. */
function certificateNames(cert: PeerCertificate): string[] {
  const names = (cert.subjectaltname ?? '')
    .split(/,\s*/)
    .map((entry) => entry.replace(/^(DNS|IP Address):/, '').trim())
    .filter(Boolean);
  const cn = cert.subject?.CN;
  return names.length > 0 ? names : cn ? [Array.isArray(cn) ? cn[0]! : cn] : [];
}

function chainOf(leaf: DetailedPeerCertificate): Array<{ subject: string; issuer: string }> {
  const chain: Array<{ subject: string; issuer: string }> = [];
  const seen = new Set<string>();
  for (let cert: DetailedPeerCertificate | undefined = leaf; cert && !seen.has(cert.fingerprint256) && chain.length < 10; cert = cert.issuerCertificate) {
    seen.add(cert.fingerprint256);
    chain.push({ subject: distinguishedName(cert.subject), issuer: distinguishedName(cert.issuer) });
  }
  return chain;
}

export function describeCertificate(socket: TLSSocket, host: string, now = Date.now()): CertificateFacts | null {
  const leaf = socket.getPeerCertificate(true);
  if (!leaf || Object.keys(leaf).length === 0) return null;
  const verifyError = socket.authorized ? null : String(socket.authorizationError ?? 'unverified');
  const subject = distinguishedName(leaf.subject);
  const issuer = distinguishedName(leaf.issuer);
  const validTo = new Date(leaf.valid_to);
  return {
    subject,
    issuer,
    names: certificateNames(leaf),
    validTo: validTo.toISOString(),
    daysLeft: Math.floor((validTo.getTime() - now) / DAY_MS),
    selfSigned: subject === issuer || (verifyError !== null && SELF_SIGNED_ERRORS.has(verifyError)),
    trusted: verifyError === null || verifyError === NAME_ERROR,
    nameMatches: checkServerIdentity(host, leaf) === undefined,
    verifyError: verifyError === NAME_ERROR ? null : verifyError,
    chain: chainOf(leaf),
  };
}

export function tlsParameters(socket: TLSSocket): { protocol: string | null; cipher: string | null } {
  return { protocol: socket.getProtocol() ?? null, cipher: socket.getCipher()?.name ?? null };
}
