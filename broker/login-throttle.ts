// Password guessing: every failed login makes the next attempt by the same user name, and from the
// same address, wait longer before its password is checked (OWASP Authentication Cheat Sheet,
// "Login Throttling"). Slowing instead of locking keeps an attacker from locking a real user out.
// Both tables are bounded: the oldest entry goes when a new key would pass the bound.
import type { LoginThrottleOptions } from './options.js';

/** Most user names and most addresses remembered (each). */
const MAX_KEYS = 10_000;

interface Failures {
  count: number;
  last: number;
}

class FailureTable {
  private readonly map = new Map<string, Failures>();
  constructor(private readonly windowMs: number) {}

  count(key: string, now: number): number {
    const f = this.map.get(key);
    if (!f) return 0;
    if (now - f.last > this.windowMs) {
      this.map.delete(key);
      return 0;
    }
    return f.count;
  }

  fail(key: string, now: number): number {
    const count = this.count(key, now) + 1;
    this.map.delete(key); // re-insert: Map order is then least recently failed first
    if (this.map.size >= MAX_KEYS) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, { count, last: now });
    return count;
  }

  clear(key: string): void {
    this.map.delete(key);
  }
}

export class LoginThrottle {
  private readonly users: FailureTable;
  private readonly addresses: FailureTable;

  constructor(private readonly o: Required<LoginThrottleOptions>) {
    this.users = new FailureTable(o.windowMs);
    this.addresses = new FailureTable(o.windowMs);
  }

  /** Milliseconds this attempt must wait before its password is checked (0 = none). */
  delayFor(user: string, address: string | undefined, now = Date.now()): number {
    const n = Math.max(this.users.count(user, now), address ? this.addresses.count(address, now) : 0);
    return this.delayAfter(n);
  }

  /** Records a failure; returns the failure count of the user and of the address. */
  failed(user: string, address: string | undefined, now = Date.now()): { user: number; address: number } {
    return { user: this.users.fail(user, now), address: address ? this.addresses.fail(address, now) : 0 };
  }

  /** A correct password clears the address's record; the user's stays, so an attacker's guesses still count. */
  succeeded(address: string | undefined): void {
    if (address) this.addresses.clear(address);
  }

  private delayAfter(failures: number): number {
    const over = failures - this.o.freeFailures;
    if (failures === 0 || over < 0) return 0;
    return Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** Math.min(over, 30));
  }
}
