// The editor's websocket (/comms): what debug nodes show in the sidebar, as it happens.
import WebSocket from 'ws';

export interface DebugMessage {
  id: string;
  name?: string;
  msg: string;
  format: string;
}

export interface DebugFeed {
  messages: DebugMessage[];
  /** Resolves with the messages of debug node `name` once `pred` holds for them (bounded). */
  waitFor(name: string, pred: (msgs: DebugMessage[]) => boolean, timeoutMs?: number): Promise<DebugMessage[]>;
  close(): void;
}

export async function debugFeed(baseUrl: string): Promise<DebugFeed> {
  const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + '/comms');
  const messages: DebugMessage[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    for (const item of JSON.parse(data.toString()) as { topic: string; data: DebugMessage }[]) {
      if (item.topic === 'debug') messages.push(item.data);
    }
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ subscribe: 'debug' }));
  return {
    messages,
    waitFor: (name, pred, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const mine = messages.filter((m) => m.name === name);
          if (pred(mine)) (cleanup(), resolve(mine));
        };
        const timer = setTimeout(() => (cleanup(), reject(new Error(`debug "${name}": condition not met within ${timeoutMs} ms; got ${JSON.stringify(messages.filter((m) => m.name === name).map((m) => m.msg))}`))), timeoutMs);
        const cleanup = () => (clearTimeout(timer), waiters.delete(check));
        waiters.add(check);
        check();
      }),
    close: () => ws.close(),
  };
}
