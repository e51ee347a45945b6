// Loads the policy file at start (invalid → PolicyError, one line; the CLI exits 2) and reloads it on
// SIGHUP or when the file changes. A reload is all or nothing: a new file that does not validate
// leaves the old policy in force and is reported through the onError listener.
import { createHash } from 'node:crypto';
import { promises as fs, watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import * as path from 'node:path';
import { parsePolicy, PolicyError, type Policy } from './schema.js';
import { realRoots } from './paths.js';

/** A policy is a few kilobytes; a bigger file is a mistake (or an attack on start-up time). */
export const MAX_POLICY_BYTES = 1024 * 1024;

export interface PolicyLoaderOptions {
  file: string;
  /** A new policy is in force. */
  onReload?: (policy: Policy) => void;
  /** A reload failed; the previous policy stays in force. */
  onError?: (err: PolicyError) => void;
  /** Reload on SIGHUP (default true). */
  sighup?: boolean;
  /** Changes are picked up this long after the first event of a burst (editors write in several steps). Default 200 ms. */
  debounceMs?: number;
  /** stat polling interval, the fallback where fs.watch misses changes (NFS, some containers). Default 2000 ms. */
  pollMs?: number;
}

/** Reads, validates and resolves a policy file; every failure is a PolicyError starting with the file name. */
export async function loadPolicy(file: string): Promise<{ policy: Policy; digest: string }> {
  const fail = (msg: string) => new PolicyError(`policy ${file}: ${msg}`);
  let text: Buffer;
  try {
    const fh = await fs.open(file, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw fail('not a regular file');
      if (st.size > MAX_POLICY_BYTES) throw fail(`is ${st.size} bytes; the limit is ${MAX_POLICY_BYTES}`);
      text = await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof PolicyError) throw err;
    throw fail(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text.toString('utf8'));
  } catch (err) {
    throw fail(`is not valid JSON (${(err as Error).message})`);
  }
  let policy: Policy;
  try {
    policy = parsePolicy(json);
  } catch (err) {
    throw fail((err as Error).message);
  }
  for (const rule of policy.rules ?? []) {
    try {
      rule.realRead = await realRoots(rule.read);
      rule.realWrite = await realRoots(rule.write);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw fail(`rule ${rule.name}: root ${e.path ?? ''} cannot be resolved (${e.code ?? e.message})`);
    }
    // The lexical check in evaluate.ts accepts a path under either spelling of a root.
    rule.read = [...new Set([...rule.read, ...rule.realRead])];
    rule.write = [...new Set([...rule.write, ...rule.realWrite])];
  }
  return { policy, digest: createHash('sha256').update(text).digest('hex') };
}

export class PolicyLoader {
  readonly file: string;
  private readonly opts: PolicyLoaderOptions;
  private policy: Policy | undefined;
  private digest = '';
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly onSighup = () => void this.reload();
  private readonly onPoll = () => this.schedule();

  constructor(opts: PolicyLoaderOptions) {
    this.opts = opts;
    this.file = path.resolve(opts.file);
  }

  /** The policy in force; start() must have resolved. */
  get current(): Policy {
    if (!this.policy) throw new Error('PolicyLoader.start() has not completed');
    return this.policy;
  }

  /** Loads the file (throws PolicyError when invalid) and starts watching it. */
  async start(): Promise<Policy> {
    const { policy, digest } = await loadPolicy(this.file);
    this.policy = policy;
    this.digest = digest;
    // Watch the directory, not the file: editors and config managers replace files by rename.
    try {
      this.watcher = watch(path.dirname(this.file), (_event, name) => {
        if (name === null || name.toString() === path.basename(this.file)) this.schedule();
      });
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      this.watcher = undefined;
    }
    watchFile(this.file, { interval: this.opts.pollMs ?? 2000, persistent: false }, this.onPoll);
    if (this.opts.sighup ?? true) process.on('SIGHUP', this.onSighup);
    return policy;
  }

  /** Reloads now; resolves true when a new policy took effect, false when unchanged or invalid. */
  reload(): Promise<boolean> {
    const next = this.chain.then(() => this.reloadOnce());
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    unwatchFile(this.file, this.onPoll);
    process.off('SIGHUP', this.onSighup);
  }

  private schedule(): void {
    // Fires once per burst, debounceMs after its first event: bounded delay even under constant writes.
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reload();
    }, this.opts.debounceMs ?? 200);
    this.timer.unref();
  }

  private async reloadOnce(): Promise<boolean> {
    try {
      const { policy, digest } = await loadPolicy(this.file);
      if (digest === this.digest) return false;
      this.policy = policy;
      this.digest = digest;
      this.opts.onReload?.(policy);
      return true;
    } catch (err) {
      this.opts.onError?.(err instanceof PolicyError ? err : new PolicyError(`policy ${this.file}: ${(err as Error).message}`));
      return false;
    }
  }
}
