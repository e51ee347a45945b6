// TLS material for a broker connection: each of ca, cert and key is PEM text or a path to a PEM file,
// alike for the agent and the controller.
import { readFileSync } from 'node:fs';

/**
 * PEM text is used as is; anything else is a path read now, so a typo fails when the options are
 * built, naming the option, instead of at the TLS handshake.
 */
export function tlsMaterial(name: string, value: string | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  if (value.includes('-----BEGIN')) return Buffer.from(value);
  try {
    return readFileSync(value);
  } catch (e) {
    throw new TypeError(`${name}: cannot read "${value}": ${(e as Error).message}`);
  }
}
