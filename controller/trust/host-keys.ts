// Pinned agent keys [cp-sig-7]: presence only *claims* a key (anyone who can publish a status could
// name one), so the first key seen for a host is pinned (given up front, read from the known-hosts
// file, or trusted on first use like ssh) and a different one later is flagged, never adopted.
// Terminal events are then checked with the pinned key of the host their topic names [cp-sig-8].
import type { KeyObject } from 'node:crypto';
import { isHostName, keyId, parsePublicKey, verifyEvent, type JobEvent } from '../../protocol/index.js';
import { ControllerError } from '../errors.js';
import { appendKnownHost, readKnownHosts } from './known-hosts.js';

export interface PinOptions {
  /** Keys given up front, by host name: base64 public keys (`conplyent key show`). */
  agentKeys?: Record<string, string>;
  /** A known-hosts file: read at connect, a host seen for the first time is appended (0600). */
  knownHosts?: string;
}

/** What presence says about a host's key, against its pin. */
export interface KeyCheck {
  /** Key id of the key this controller verifies the host's results with. */
  pinnedKeyId?: string;
  /** The key announced differs from the pin (or a pinned host announced none): it is NOT adopted. */
  changed?: { announcedKeyId: string | null };
}

/** Why a terminal event is not the host's answer; undefined when it is. */
export type Forgery = string | undefined;

const TERMINAL = new Set(['result', 'error', 'lost']);

export class HostKeys {
  private readonly pins = new Map<string, { text: string; key: KeyObject }>();

  /** `warn` hears about pins that could not be written; the pin still holds in memory. */
  constructor(private readonly o: PinOptions = {}, private readonly warn?: (message: string) => void) {
    const given = Object.entries(o.agentKeys ?? {});
    const known = o.knownHosts ? readKnownHosts(o.knownHosts) : new Map<string, string>();
    // Keys given up front win over the file: they are what the operator says now.
    for (const [host, text] of [...known, ...given]) this.pin(host, text, 'agentKeys');
  }

  private pin(host: string, text: string, what: string): void {
    if (!isHostName(host)) throw new ControllerError('BAD_OPTION', `${what}: "${host}" is not a valid host name`);
    try {
      this.pins.set(host, { text: text.trim(), key: parsePublicKey(text) });
    } catch (e) {
      throw new ControllerError('BAD_OPTION', `${what}: key of ${host}: ${(e as Error).message}`);
    }
  }

  /** The pinned key of a host, as text. */
  pinned(host: string): string | undefined {
    return this.pins.get(host)?.text;
  }

  /**
   * Applies a key announced in presence: pins it on first contact (and writes it to the known-hosts
   * file), reports a change otherwise. An offline status (a Last Will) carries no key: no change.
   */
  observe(host: string, announced: string | undefined, online: boolean): KeyCheck {
    const pin = this.pins.get(host);
    if (!pin) {
      if (!announced) return {};
      const key = parsePublicKey(announced);
      this.pins.set(host, { text: announced, key });
      try {
        if (this.o.knownHosts) appendKnownHost(this.o.knownHosts, host, announced);
      } catch (e) {
        // Called for a message from the broker: a full disk or a read-only file must not take the
        // controller down; the pin holds for this run and the next run pins again.
        this.warn?.(`cannot write ${host}'s key to ${this.o.knownHosts}: ${(e as Error).message}`);
      }
      return { pinnedKeyId: keyId(key) };
    }
    const pinnedKeyId = keyId(pin.key);
    if (announced === pin.text || (!announced && !online)) return { pinnedKeyId };
    return { pinnedKeyId, changed: { announcedKeyId: announced ? keyId(parsePublicKey(announced)) : null } };
  }

  /**
   * Checks a terminal event from `topic` ([cp-sig-8]): with a pinned key for `host` it must carry a
   * signature by that key over the event exactly as received. Without a pin the host does not sign.
   */
  checkEvent(host: string, topic: string, ev: JobEvent, payload: Buffer): Forgery {
    if (!TERMINAL.has(ev.type)) return undefined;
    const pin = this.pins.get(host);
    if (!pin) return undefined;
    let raw: Record<string, unknown>;
    try {
      // The signature covers every field as sent, including any this controller's schema drops.
      raw = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      return `the ${ev.type} event is not JSON`;
    }
    const v = verifyEvent(raw as { type: string }, topic, pin.key);
    return v.ok ? undefined : `${ev.type} event not signed by ${host}'s pinned key ${keyId(pin.key)}: ${v.message}`;
  }
}
