// Which broker URLs the agent and the controller dial: one scheme table for both, checked before any
// socket is opened so a typo is an option error, not a retry loop.

/**
 * URL schemes mqtt.js dials in Node (its connect/index.js protocol table): plain TCP, TLS under
 * three names, and MQTT over WebSocket.
 */
export const BROKER_SCHEMES = ['mqtt', 'tcp', 'mqtts', 'tls', 'ssl', 'ws', 'wss'] as const;

const ACCEPTED = new Set<string>(BROKER_SCHEMES.map((s) => `${s}:`));

/** Why `url` is not a broker URL we can dial, or undefined when it is. */
export function brokerUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    return (e as Error).message;
  }
  return ACCEPTED.has(u.protocol) ? undefined : `unsupported scheme ${u.protocol} (use ${BROKER_SCHEMES.join(', ')})`;
}
