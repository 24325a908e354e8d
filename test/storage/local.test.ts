/** The storage contract on local folder storage. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStorage } from '../../src/storage/local.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';
import { storageContract } from './contract.js';

const scratch = scratchDirForFile('ferry-local-contract-');
let count = 0;

storageContract('local', async () => {
  const root = join(scratch(), `backend-${count++}`);
  mkdirSync(root);
  return new LocalStorage(root);
});
