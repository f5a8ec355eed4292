/**
 * How an execution ends when the platform, not the script, ends it. Every failure is a
 * value with a name (`ExecutionError`), never an exception thrown to the sandbox's caller.
 */
export const SANDBOX_ERRORS = {
  /** Wall time (`timeoutMs`) ran out, or the script's promise can never settle. */
  TimeoutError: "timeout",
  /** Time inside the interpreter (`cpuMs`) ran out. */
  CpuLimitError: "timeout",
  /** The script's heap reached `memoryBytes`. */
  OutOfMemoryError: "failed",
  /** The script recursed past `stackBytes`. */
  StackOverflowError: "failed",
  /** The JSON result is larger than `outputBytes`. */
  OutputTooLargeError: "failed",
  /** QuickJS refused the script (a syntax it does not support). */
  CompileError: "failed",
  /** The sandbox itself failed; the runtime was discarded. */
  SandboxError: "failed",
} as const;

export type SandboxErrorName = keyof typeof SANDBOX_ERRORS;

export interface ExecutionError {
  name: string;
  message: string;
  stack: string;
}

export function sandboxError(name: SandboxErrorName, message: string): ExecutionError {
  return { name, message, stack: "" };
}
