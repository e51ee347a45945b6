// The shell's current directory, per session [cp-env-8] [cp-env-12]: `cd` sent with a session moves
// that session only, so two operators' shells on one host no longer move each other. A command
// without a session uses (and `cd` moves) the shared directory, as in the original conplyent:
// `conplyent run web-1 cd /srv` followed by `conplyent run web-1 ls` still works from scripts.
/** Sessions remembered at once; the least recently used is forgotten (it falls back to the shared directory). */
export const MAX_SESSIONS = 256;

export class SessionDirs {
  private shared: string;
  private readonly dirs = new Map<string, string>();

  constructor(start: string) {
    this.shared = start;
  }

  /** A session's directory; a session that never ran `cd` starts in the shared one. */
  get(session?: string): string {
    if (session === undefined) return this.shared;
    const dir = this.dirs.get(session);
    if (dir === undefined) return this.shared;
    // Re-inserted: Map order is then least recently used first.
    this.dirs.delete(session);
    this.dirs.set(session, dir);
    return dir;
  }

  set(dir: string, session?: string): void {
    if (session === undefined) {
      this.shared = dir;
      return;
    }
    this.dirs.delete(session);
    this.dirs.set(session, dir);
    if (this.dirs.size > MAX_SESSIONS) this.dirs.delete(this.dirs.keys().next().value!);
  }
}
