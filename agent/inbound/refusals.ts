// Refusals by the broker that the agent acts on, recognised by their `code` (as nats.js does),
// never by matching message text that anyone may reword.

/** The SUBACK granted 0x80 (failure, MQTT 3.1.1 §3.9.3) for some of our filters: an ACL says no. */
export class SubscriptionRefused extends Error {
  readonly code = 'SUBSCRIPTION_REFUSED';

  constructor(readonly filters: string[]) {
    super(`broker refused subscriptions: ${filters.join(', ')}`);
    this.name = 'SubscriptionRefused';
  }
}
