/**
 * Where a script runs (API.md §14): at the edge, in the Worker isolate that received the
 * request, or in the tenant's cell. Pure policy; table-tested in test/domain/placement.test.ts.
 */
import { z } from "zod";

export const PLACEMENTS = ["auto", "edge", "cell"] as const;
export type Placement = (typeof PLACEMENTS)[number];
export const placementSchema = z.enum(PLACEMENTS);

/** New scripts; scripts that existed before placement did are `cell` (no silent change of behaviour). */
export const DEFAULT_PLACEMENT: Placement = "auto";
/** The CPU slice of an edge execution when `EDGE_CPU_MS` is not set. */
export const DEFAULT_EDGE_CPU_MS = 50;

export interface PlacementInput {
  placement: Placement;
  /** The script's trigger: only http scripts may run at the edge. */
  type: string;
  /** From its source (compile.ts): may it use iota.db or iota.events? */
  usesCellState: boolean;
  /** The script's own cpuMs limit, if it set one. */
  ownCpuMs: number | undefined;
  edgeCpuMs: number;
}

/**
 * `edge` and `cell` are taken as chosen for http scripts; `auto` is the edge unless the
 * script may use the tenant's state or its own limits ask for more CPU than the edge
 * slice. Events, schedules and runs by hand always run in the cell.
 */
export function resolvePlacement(input: PlacementInput): "edge" | "cell" {
  if (input.type !== "http") return "cell";
  if (input.placement !== "auto") return input.placement;
  if (input.usesCellState) return "cell";
  if (input.ownCpuMs !== undefined && input.ownCpuMs > input.edgeCpuMs) return "cell";
  return "edge";
}

/** `EDGE_CPU_MS` as a number of milliseconds (default 50). */
export function edgeCpuMs(env: { EDGE_CPU_MS?: string }): number {
  const value = Number(env.EDGE_CPU_MS ?? DEFAULT_EDGE_CPU_MS);
  return Number.isFinite(value) && value >= 1 ? Math.floor(value) : DEFAULT_EDGE_CPU_MS;
}
