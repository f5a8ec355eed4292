/**
 * The bridge's host side: what a script's `iota.*` calls reach. The sandbox knows nothing
 * of what they do (src/host/host-api.ts implements them); it validates nothing but their shape:
 * arguments arrive as parsed JSON, the value returned goes back as JSON.
 */

/** Every SDK function a script can call; each counts toward `sdkCallsPerExecution`. */
export const SDK_FUNCTIONS = [
  "db.query",
  "db.get",
  "db.insert",
  "db.update",
  "db.delete",
  "db.count",
  "http.fetch",
  "http.get",
  "http.post",
  "secrets.get",
  "events.publish",
] as const;

export type SdkFunctionName = (typeof SDK_FUNCTIONS)[number];

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogEntry {
  level: LogLevel;
  message: string;
  /** ISO 8601. */
  at: string;
}

export interface HostCallInfo {
  /** Milliseconds left before the execution's deadline. */
  remainingMs: number;
  /**
   * The execution's byte channel (web/channel.ts): bytes the script handed over, by id, and
   * bytes to hand back (`{$b: put(bytes)}` in a result). Absent outside the sandbox.
   */
  bytes?: ByteChannel;
}

/** Bytes crossing the sandbox boundary by id, within one execution. */
export interface ByteChannel {
  put(bytes: Uint8Array): number;
  /** Throws a TypeError for an id that holds nothing. */
  take(id: unknown): Uint8Array;
}

/**
 * One SDK function. Arguments are the script's arguments as parsed JSON (never guest
 * objects). Throw an error with a `name` (`QuotaExceededError`, `NetworkPolicyError`…) to
 * make the call throw that inside the script.
 */
export type HostFunction = (args: unknown[], info: HostCallInfo) => unknown;

export interface HostApi {
  functions: Partial<Record<string, HostFunction>>;
}

export const NO_HOST: HostApi = { functions: {} };
