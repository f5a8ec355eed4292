/**
 * The cell's live tails (API.md §15): Server-Sent Event streams (a streamed response of the
 * Durable Object's fetch) and WebSockets accepted with the hibernation API, so a tail with
 * nothing to say costs nothing (the object may sleep while its sockets stay open). Each
 * finished execution the cell records is offered to every tail at once; each tail gets what
 * its filter lets through, within its budget (observability/tail.ts), and is told how many
 * it missed. A tenant's tails live in its own cell: no tenant can see another's, and their
 * cost (at most MAX_TAILS_PER_TENANT of them) falls on that cell alone.
 */
import { errorBody } from "../domain/errors";
import { base64url } from "../lib/crypto";
import {
  applyFilter,
  MAX_TAILS_PER_TENANT,
  SSE_KEEPALIVE,
  socketFrame,
  sseFrame,
  summaryOf,
  TailBudget,
  type TailFilter,
  type TailMessage,
} from "../observability/tail";
import type { ExecutionRecord } from "./records";

export const TAIL_TICKETS_MIGRATION = ["CREATE TABLE tail_tickets (hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)"];

/** How the Worker hands a tail request to the cell (its `fetch`): the tenant, the filter, and the ticket of a WebSocket tail. */
export const TAIL_HEADERS = { tenant: "x-iota-tenant-id", filter: "x-iota-tail-filter", ticket: "x-iota-tail-ticket" } as const;

/** A ticket opens one WebSocket tail, once, within this long. */
export const TAIL_TICKET_TTL_MS = 60_000;
/** SSE frames waiting for a reader that does not keep up (written or about to be), before what follows is skipped. */
const SSE_QUEUE_FRAMES = 256;
/**
 * Frames that arrive together leave together: the first arms a flush this much later. Each
 * chunk of a streamed response crosses the cell, the Worker and the network on its own, so
 * under load a tail of many small chunks falls behind where one of few larger ones keeps up.
 */
const SSE_FLUSH_MS = 25;
/** An SSE reader stuck this long (its queue full) is gone: the stream is closed. */
const STUCK_STREAM_MS = 60_000;
const KEEPALIVE_EVERY_TICKS = 15;
const TICK_MS = 1_000;
const SOCKET_TAG = "tail";

/** What a tail receives through, and what it missed since its last message. */
interface Target {
  filter: TailFilter;
  budget: TailBudget;
  skipped: number;
  /** Sends one message; false when the reader is not keeping up (nothing was sent). */
  send(text: TailMessage): boolean;
}

interface StreamTail extends Target {
  controller: ReadableStreamDefaultController<Uint8Array>;
  stuckSince: number | null;
  /** Frames waiting for the next flush. */
  pending: string[];
  flush: ReturnType<typeof setTimeout> | null;
}

/** Kept with a socket through hibernation. */
interface SocketAttachment {
  filter: TailFilter;
}

const encoder = new TextEncoder();

/** A chunk of an SSE stream, with how many frames it carries (for the queue's size). */
type FrameChunk = Uint8Array & { frames: number };

export class Tails {
  private readonly streams = new Set<StreamTail>();
  /** Per socket, in memory (a socket woken from hibernation starts a fresh budget). */
  private readonly sockets = new WeakMap<WebSocket, Target>();
  private socketCount: number;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private ticks = 0;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly clock: () => number = Date.now,
  ) {
    this.socketCount = ctx.getWebSockets(SOCKET_TAG).length;
    // Answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /** Tails open now. */
  get count(): number {
    return this.streams.size + this.socketCount;
  }

  /** A tail for `request`: an SSE stream, or (with `Upgrade: websocket`) a hibernatable socket. 429 past MAX_TAILS_PER_TENANT. */
  open(request: Request, filter: TailFilter): Response {
    if (this.count >= MAX_TAILS_PER_TENANT) {
      return Response.json(errorBody("quota_exceeded", `at most ${MAX_TAILS_PER_TENANT} tails may be open at once per tenant`, { reason: "tails", retryAfterSeconds: 5 }), {
        status: 429,
        headers: { "retry-after": "5" },
      });
    }
    return request.headers.get("upgrade")?.toLowerCase() === "websocket" ? this.openSocket(filter) : this.openStream(filter);
  }

  private openStream(filter: TailFilter): Response {
    let tail: StreamTail;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          tail = {
            filter,
            budget: new TailBudget(this.clock),
            skipped: 0,
            controller,
            stuckSince: null,
            pending: [],
            flush: null,
            send: (message) => {
              // desiredSize counts frames already written and not read (the queue's frames are chunks of them).
              if ((controller.desiredSize ?? 0) - tail.pending.length <= 0) {
                tail.stuckSince ??= this.clock();
                return false;
              }
              tail.stuckSince = null;
              tail.pending.push(sseFrame(message));
              tail.flush ??= setTimeout(() => this.flushStream(tail), SSE_FLUSH_MS);
              return true;
            },
          };
          this.streams.add(tail);
          tail.send({ event: "ready", data: { filter } });
        },
        cancel: () => {
          this.streams.delete(tail);
          if (tail.flush !== null) clearTimeout(tail.flush);
          this.settle();
        },
      },
      // Sized in frames: a chunk counts as the frames it carries.
      { highWaterMark: SSE_QUEUE_FRAMES, size: (chunk) => (chunk as FrameChunk).frames },
    );
    this.startTicker();
    return new Response(stream, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" },
    });
  }

  /** Writes a stream's waiting frames as one chunk. */
  private flushStream(tail: StreamTail) {
    tail.flush = null;
    if (tail.pending.length === 0 || !this.streams.has(tail)) return;
    const chunk = encoder.encode(tail.pending.join("")) as FrameChunk;
    chunk.frames = tail.pending.length;
    tail.pending = [];
    try {
      tail.controller.enqueue(chunk);
    } catch {
      // The reader went: cancel() removes the tail.
    }
  }

  private openSocket(filter: TailFilter): Response {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [SOCKET_TAG]);
    server.serializeAttachment({ filter } satisfies SocketAttachment);
    this.socketCount += 1;
    this.socketTarget(server).send({ event: "ready", data: { filter } });
    return new Response(null, { status: 101, webSocket: client });
  }

  /** A socket tail closed (or failed): it no longer counts. */
  closed(ws: WebSocket) {
    // Counted again (the object may just have woken from hibernation for this close).
    this.socketCount = this.ctx.getWebSockets(SOCKET_TAG).filter((open) => open !== ws).length;
    try {
      ws.close();
    } catch {
      // Already closed.
    }
  }

  /** A finished execution, to every tail whose filter lets it through. */
  publish(record: ExecutionRecord) {
    if (this.count === 0) return;
    const summary = summaryOf(record);
    for (const tail of this.streams) this.deliver(tail, summary);
    if (this.socketCount === 0) return;
    for (const ws of this.ctx.getWebSockets(SOCKET_TAG)) this.deliver(this.socketTarget(ws), summary);
  }

  private deliver(target: Target, summary: ReturnType<typeof summaryOf>) {
    const shown = applyFilter(summary, target.filter);
    if (!shown) return;
    const message: TailMessage = { event: "execution", data: shown };
    // Measured as sent (the same for both formats, give or take the framing).
    const size = JSON.stringify(shown).length;
    if (!target.budget.take(size) || !this.flushSkipped(target) || !target.send(message)) {
      target.skipped += 1;
      this.startTicker();
    }
  }

  /** Tells a tail what it missed, if anything; false when it could not be told now. */
  private flushSkipped(target: Target): boolean {
    if (target.skipped === 0) return true;
    if (!target.send({ event: "skipped", data: { count: target.skipped } })) return false;
    target.skipped = 0;
    return true;
  }

  private socketTarget(ws: WebSocket): Target {
    let target = this.sockets.get(ws);
    if (!target) {
      const attachment = ws.deserializeAttachment() as SocketAttachment | null;
      target = {
        filter: attachment?.filter ?? {},
        budget: new TailBudget(this.clock),
        skipped: 0,
        send: (message) => {
          try {
            ws.send(socketFrame(message));
            return true;
          } catch {
            return false;
          }
        },
      };
      this.sockets.set(ws, target);
    }
    return target;
  }

  /**
   * Once a second while SSE streams are open or a tail has missed something: tells tails what
   * they missed, keeps SSE streams alive, and closes a stream whose reader has been stuck
   * for STUCK_STREAM_MS. Stops when there is nothing left to do, so idle sockets let the
   * object hibernate.
   */
  private startTicker() {
    if (this.ticker !== null) return;
    this.ticker = setInterval(() => this.tick(), TICK_MS);
  }

  private tick() {
    this.ticks += 1;
    const now = this.clock();
    for (const tail of this.streams) {
      if (tail.stuckSince !== null && now - tail.stuckSince > STUCK_STREAM_MS) {
        this.streams.delete(tail);
        try {
          tail.controller.close();
        } catch {
          // Already gone.
        }
        continue;
      }
      this.flushSkipped(tail);
      if (this.ticks % KEEPALIVE_EVERY_TICKS === 0 && tail.pending.length === 0 && (tail.controller.desiredSize ?? 0) > 0) {
        tail.controller.enqueue(Object.assign(encoder.encode(SSE_KEEPALIVE), { frames: 1 }));
      }
    }
    if (this.socketCount > 0) for (const ws of this.ctx.getWebSockets(SOCKET_TAG)) this.flushSkipped(this.socketTarget(ws));
    this.settle();
  }

  /** Stops the ticker once no stream is open and no tail is owed a skipped count. */
  private settle() {
    if (this.ticker === null || this.streams.size > 0) return;
    const owed = this.socketCount > 0 && this.ctx.getWebSockets(SOCKET_TAG).some((ws) => this.socketTarget(ws).skipped > 0);
    if (owed) return;
    clearInterval(this.ticker);
    this.ticker = null;
  }
}

/**
 * Single-use tickets for WebSocket tails (browsers cannot set headers on a WebSocket):
 * `tkt_<tenant id's 26 characters><43 random characters>`, the tenant part telling the Worker
 * which cell to ask, the random part known only to the holder (the cell keeps its SHA-256).
 */
export class TailTickets {
  constructor(
    private readonly sql: SqlStorage,
    private readonly clock: () => number = Date.now,
  ) {}

  async issue(tenantId: string): Promise<{ ticket: string; expiresAt: string }> {
    const now = this.clock();
    this.sql.exec("DELETE FROM tail_tickets WHERE expires_at <= ?", now);
    const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const expiresAt = now + TAIL_TICKET_TTL_MS;
    this.sql.exec("INSERT INTO tail_tickets (hash, expires_at) VALUES (?, ?)", await digest(secret), expiresAt);
    return { ticket: `tkt_${tenantId.slice("ten_".length)}${secret}`, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Whether `secret` is a live ticket; it is used up either way. */
  async redeem(secret: string): Promise<boolean> {
    const hash = await digest(secret);
    const row = this.sql.exec<{ expires_at: number }>("DELETE FROM tail_tickets WHERE hash = ? RETURNING expires_at", hash).toArray()[0];
    return row !== undefined && row.expires_at > this.clock();
  }
}

/** A ticket's tenant id and secret, or null when it is not shaped like one. */
export function parseTicket(ticket: string): { tenantId: string; secret: string } | null {
  const match = /^tkt_([0-9A-HJKMNP-TV-Z]{26})([A-Za-z0-9_-]{43})$/.exec(ticket);
  return match ? { tenantId: `ten_${match[1]}`, secret: match[2]! } : null;
}

async function digest(secret: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(secret))));
}
