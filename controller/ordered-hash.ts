// The SHA-256 of a file as a `put` sends it: chunks are read a few at a time and their reads end in
// any order, so each is hashed once every byte before it has been; until then it is held (at most
// the chunks in flight). The file is not read a second time just to be hashed.
import { createHash } from 'node:crypto';

export class OrderedHash {
  private readonly hash = createHash('sha256');
  private next = 0;
  private readonly held = new Map<number, Uint8Array>();

  /** The bytes at `offset`; hashed now or as soon as the bytes before them are. */
  add(offset: number, bytes: Uint8Array): void {
    this.held.set(offset, bytes);
    for (let b = this.held.get(this.next); b !== undefined; b = this.held.get(this.next)) {
      this.held.delete(this.next);
      this.hash.update(b);
      this.next += b.length;
    }
  }

  /** Hex digest of bytes 0 … `size`; undefined when some of them never came (the upload stopped early). */
  digest(size: number): string | undefined {
    return this.next === size && this.held.size === 0 ? this.hash.digest('hex') : undefined;
  }
}
