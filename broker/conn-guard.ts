// Connection floods: a cap on open connections and a per-IP rate of new ones, checked when a socket
// is accepted, before any MQTT parsing or password hashing is spent on it.
import type { ConnectRateOptions } from './options.js';
import { isLoopback } from './options.js';

/** Bound on remembered IPs, so a flood from many addresses cannot grow the table without limit. */
const MAX_TRACKED_IPS = 100_000;

export class ConnectionGuard {
  private open = 0;
  private readonly recent = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly maxConnections: number,
    private readonly rate: ConnectRateOptions | false,
  ) {}

  /** Whether a new connection from `ip` may proceed; when true, call the returned release on close. */
  admit(ip: string | undefined): { ok: true; release: () => void } | { ok: false; reason: string } {
    if (this.open >= this.maxConnections) return { ok: false, reason: `connection limit ${this.maxConnections} reached` };
    if (this.rate && ip && !(this.rate.exemptLoopback !== false && isLoopback(ip))) {
      const now = Date.now();
      let e = this.recent.get(ip);
      if (!e || now - e.start >= this.rate.windowMs) {
        if (this.recent.size >= MAX_TRACKED_IPS) this.recent.clear();
        e = { start: now, count: 0 };
        this.recent.set(ip, e);
      }
      if (++e.count > this.rate.max) return { ok: false, reason: `more than ${this.rate.max} connections from ${ip} in ${this.rate.windowMs} ms` };
    }
    this.open++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (!released) this.open--;
        released = true;
      },
    };
  }
}
