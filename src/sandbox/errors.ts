/**
 * How an execution ends when the platform, not the script, ends it. Every failure is a
 * value with a name (`ExecutionError`), never an exception thrown to the sandbox's caller.
 *
 * - `TimeoutError` (status `timeout`): wall time (`timeoutMs`) ran out, or the script's
 *   promise can never settle.
 * - `CpuLimitError` (`timeout`): time inside the interpreter (`cpuMs`) ran out.
 * - `OutOfMemoryError` (`failed`): the heap reached `memoryBytes`.
 * - `StackOverflowError` (`failed`): recursion past `stackBytes`.
 * - `OutputTooLargeError` (`failed`): the JSON result is larger than `outputBytes`.
 * - `CompileError` (`failed`): QuickJS refused the script (a syntax it does not support).
 * - `SandboxError` (`failed`): the sandbox itself failed; the runtime was discarded.
 */
export type SandboxErrorName =
  | "TimeoutError"
  | "CpuLimitError"
  | "OutOfMemoryError"
  | "StackOverflowError"
  | "OutputTooLargeError"
  | "CompileError"
  | "SandboxError";

export interface ExecutionError {
  name: string;
  message: string;
  stack: string;
}

export function sandboxError(name: SandboxErrorName, message: string): ExecutionError {
  return { name, message, stack: "" };
}
