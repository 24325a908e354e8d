/**
 * `npm run fetch:peers`: downloads and unpacks the Debian packages of the peer servers the
 * client tests start (ProFTPD, Pure-FTPd) into .cache/debian, so the tests themselves
 * never leave loopback. .ci/run runs it before `npm test`; a failure here fails CI loudly
 * instead of turning those tests into skips.
 */
import { unpackDebianPackages } from './debian-package.js';
import { PROFTPD_PACKAGES } from './proftpd.js';
import { PUREFTPD_PACKAGES } from './pureftpd.js';

for (const names of [PROFTPD_PACKAGES, PUREFTPD_PACKAGES]) {
  const { packages } = unpackDebianPackages(names, { fetch: true });
  process.stdout.write(`${packages.map((p) => `${p.name} ${p.version}`).join(', ')}: in ${packages[0]!.dir.replace(/\/[^/]+$/, '')}\n`);
}
