// --data-dir: the broker's state on disk, so a restart keeps sessions, queued QoS 1 messages for
// offline agents, and retained presence: a broker restart must not lose a queued command or
// make every host look unknown.
//
// Why aedes-persistence-level: it is the maintained LevelDB backend of the aedes project, its async
// class (asyncPersistence.js) implements the aedes 1.x interface including cleanIncoming
// [MQTT-3.1.2-6], and LevelDB writes are crash-safe without a server to run (Redis/Mongo need one).
// Its package main wraps that class in the 0.x callback adapter, so we load the async class directly.
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Level } from 'level';

const require = createRequire(import.meta.url);

/** The aedes 1.x persistence interface, as far as we use it. */
export interface AedesPersistence {
  setup(broker: unknown): Promise<void>;
  destroy(): Promise<void>;
}

/** Opens (creating if needed) the LevelDB store in `<dataDir>/aedes`. */
export async function openPersistence(dataDir: string): Promise<AedesPersistence> {
  const location = join(dataDir, 'aedes');
  await mkdir(location, { recursive: true });
  const db = new Level(location);
  try {
    await db.open();
  } catch (e) {
    const cause = (e as { cause?: Error }).cause?.message ?? (e as Error).message;
    // LevelDB holds a lock file: the usual reason is a second broker on the same directory.
    throw new Error(`cannot open broker data dir ${location}: ${cause} (is another broker using it?)`);
  }
  const AsyncPersistence = require('aedes-persistence-level/asyncPersistence.js') as new (db: unknown) => AedesPersistence;
  return new AsyncPersistence(db);
}

/** The in-memory store aedes uses by default, created here so it can be wrapped (broker/queue-bound.ts). */
export function memoryPersistence(): AedesPersistence {
  return (require('aedes-persistence') as () => AedesPersistence)();
}
