import { exports } from "cloudflare:workers";

export interface TailEvent {
  event: string;
  data: any;
}

/** An open tail, read event by event, waiting on what arrives (never on time). */
export interface OpenTail {
  status: number;
  response: Response;
  /** The next event that satisfies `match` (earlier ones are kept in `seen`). */
  next(match?: (event: TailEvent) => boolean, timeoutMs?: number): Promise<TailEvent>;
  seen: TailEvent[];
  close(): Promise<void>;
}

/** `GET /api/tail` as Server-Sent Events, parsed into events. */
export async function openSseTail(query: string, token: string): Promise<OpenTail> {
  const response = await exports.default.fetch(new Request(`http://iota.test/api/tail${query}`, { headers: { authorization: `Bearer ${token}` } }));
  const seen: TailEvent[] = [];
  const waiting: Array<() => void> = [];
  let buffer = "";
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  if (response.status === 200 && response.body) {
    reader = response.body.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader!.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(frame)?.[1];
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (event && data !== undefined) seen.push({ event, data: JSON.parse(data) });
            waiting.splice(0).forEach((wake) => wake());
          }
        }
      } catch {
        // cancelled
      }
    })();
  }
  return {
    status: response.status,
    response,
    seen,
    next: (match = () => true, timeoutMs = 20_000) => waitFor(seen, waiting, match, timeoutMs),
    close: async () => {
      await reader?.cancel().catch(() => {});
    },
  };
}

/** A WebSocket tail from a response with a `webSocket`, messages parsed as `{event, data}`. */
export function socketTail(response: Response): OpenTail & { socket: WebSocket } {
  const socket = response.webSocket!;
  const seen: TailEvent[] = [];
  const waiting: Array<() => void> = [];
  socket.addEventListener("message", (message) => {
    seen.push(JSON.parse(message.data as string));
    waiting.splice(0).forEach((wake) => wake());
  });
  socket.accept();
  return {
    status: response.status,
    response,
    socket,
    seen,
    next: (match = () => true, timeoutMs = 20_000) => waitFor(seen, waiting, match, timeoutMs),
    close: async () => socket.close(1000, "done"),
  };
}

async function waitFor(seen: TailEvent[], waiting: Array<() => void>, match: (event: TailEvent) => boolean, timeoutMs: number): Promise<TailEvent> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const index = seen.findIndex(match);
    if (index >= 0) {
      // Taken: the next call finds the next one.
      const [event] = seen.splice(index, 1);
      return event!;
    }
    if (Date.now() > until) throw new Error(`no matching tail event within ${timeoutMs} ms; saw ${JSON.stringify(seen.map((e) => e.event))}`);
    // Woken by the next event, or at the deadline (the timer goes when the event comes first).
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, until - Date.now()) + 1);
      waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
