// The controller's signing key [cp-sig-1]: loaded once at connect, then every command is signed for
// the exact topic it is published on [cp-sig-3], so a copy re-addressed to another host or to the
// fleet topic is BAD_SIGNATURE at every agent.
import type { KeyObject } from 'node:crypto';
import { keyId, loadKeyFile, signCommand, type CommandInput } from '../../protocol/index.js';
import { ControllerError } from '../errors.js';

export interface CommandSigner {
  readonly kid: string;
  /** The envelope with `sig` for `topic`; it must carry `id` and `sentAt` [cp-sig-4]. */
  sign(envelope: CommandInput, topic: string): CommandInput;
}

/** A private KeyObject or the path of a PKCS#8 PEM file; a public key or an unreadable file is BAD_OPTION. */
export function loadSigner(key: KeyObject | string): CommandSigner {
  let privateKey: KeyObject | undefined;
  try {
    privateKey = typeof key === 'string' ? loadKeyFile(key).privateKey : key.type === 'private' ? key : undefined;
    if (privateKey) keyId(privateKey);
  } catch (e) {
    throw new ControllerError('BAD_OPTION', `signingKey: ${(e as Error).message}`);
  }
  if (!privateKey) {
    const what = typeof key === 'string' ? `key file ${key} holds a public key` : 'signingKey is a public key';
    throw new ControllerError('BAD_OPTION', `${what}; commands are signed with the private key (conplyent key create writes NAME.key)`);
  }
  const pk = privateKey;
  return {
    kid: keyId(pk),
    sign(envelope, topic) {
      try {
        return signCommand(envelope, topic, pk);
      } catch (e) {
        // A value without a portable canonical form (a fraction, a lone surrogate) [cp-sig-9].
        throw new ControllerError('BAD_OPTION', `cannot sign the command: ${(e as Error).message}`);
      }
    },
  };
}
