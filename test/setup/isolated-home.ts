// Tests never write into the real user's home: a CLI spawned without its own CONPLYENT_KNOWN_HOSTS
// would otherwise pin throw-away test agents' keys in ~/.config/conplyent/known_hosts, and the next
// run (new keys under the same names) would rightly report them as forged.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.CONPLYENT_KNOWN_HOSTS ??= join(mkdtempSync(join(tmpdir(), 'cp-test-home-')), 'known_hosts');
