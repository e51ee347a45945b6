// `conplyent key create|show`: ed25519 keys for signed commands [cp-sig-1]. The private key never
// leaves its 0600 file; what people copy to agents is the public key's one-line text form.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { generateSigningKey, keyId, loadKeyFile, privateKeyPem, publicKeyPem, publicKeyText, type SigningKeyPair } from '../protocol/index.js';
import { ConfigError } from './config-error.js';
import { usageExit } from './usage-exit.js';

/** A key name becomes a file name: the host-name charset keeps `/` and dot-dot out. */
const KEY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function describeKey(key: SigningKeyPair['publicKey']): string {
  return `public key: ${publicKeyText(key)}\nkey id: ${keyId(key)}\n`;
}

function writeNew(path: string, text: string, mode: number): void {
  try {
    writeFileSync(path, text, { flag: 'wx', mode }); // wx: never overwrite a key someone may rely on
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'EEXIST' ? `${path} exists; not overwritten (remove it first to make a new key)` : `cannot write ${path} (${code})`);
  }
}

export function registerKey(program: Command): void {
  const key = usageExit(program.command('key').description('create and show ed25519 keys for signed commands (topics.md, Signed commands)'));

  usageExit(key.command('create <name>'))
    .description('write NAME.key (private, PKCS#8 PEM, mode 0600) and NAME.pub (SPKI PEM); print the public key and its key id')
    .option('--dir <dir>', 'directory for the two files', '.')
    .addHelpText('after', '\nExample:\n  conplyent key create ops --dir ~/.config/conplyent\n')
    .action((name: string, opts: { dir: string }) => {
      if (!KEY_NAME_RE.test(name)) throw new ConfigError(`key name "${name}" must match ${KEY_NAME_RE.source} (it becomes a file name)`);
      const dir = resolve(opts.dir);
      const keyPath = join(dir, `${name}.key`);
      const pubPath = join(dir, `${name}.pub`);
      const pair = generateSigningKey();
      writeNew(keyPath, privateKeyPem(pair.privateKey), 0o600);
      writeNew(pubPath, publicKeyPem(pair.publicKey), 0o644);
      process.stdout.write(`wrote ${keyPath} (private, mode 0600) and ${pubPath}\n${describeKey(pair.publicKey)}`);
    });

  usageExit(key.command('show <file>'))
    .description('print the public key (base64 of the raw 32 bytes) and key id of a private or public key file')
    .action((file: string) => {
      try {
        process.stdout.write(describeKey(loadKeyFile(file).publicKey));
      } catch (err) {
        throw new ConfigError((err as Error).message);
      }
    });
}
