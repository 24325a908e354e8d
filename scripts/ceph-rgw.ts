/**
 * `node dist/scripts/ceph-rgw.js [PORT]`: a throwaway one-node Ceph RADOS Gateway (the
 * one the tests use, test/helpers/ceph.ts) on 127.0.0.1:PORT (default 7480) with a
 * bucket "ferry", for trying S3 storage by hand. Prints the AWS environment variables
 * to export, runs until Ctrl-C, then stops the daemons and removes all of its state.
 */
import { startCephGateway } from '../test/helpers/ceph.js';

const port = Number(process.argv[2] ?? 7480);
const started = await startCephGateway({ port, keys: { accessKeyId: 'ferry', secretAccessKey: 'ferry-secret' } });
if ('skip' in started) {
  console.error(started.skip);
  process.exit(1);
}
await started.createBucket('ferry');
console.log(`Ceph RGW ready in ${started.startupMs} ms: endpoint ${started.endpoint}, bucket "ferry" (state in ${started.dir})`);
console.log(`export AWS_ACCESS_KEY_ID=${started.accessKeyId} AWS_SECRET_ACCESS_KEY=${started.secretAccessKey}`);
console.log('Ctrl-C stops it.');
const stop = () => void started.stop().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
