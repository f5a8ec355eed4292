import { z } from "zod";

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The one table of limits (API.md §8): default, the platform's floor and ceiling, and
 * whether a script may lower it for itself (per-execution limits) or it only makes sense
 * for the whole tenant (rates, concurrency, storage).
 */
export const LIMITS = {
  timeoutMs: { default: 30_000, min: 10, max: 300_000, perScript: true },
  cpuMs: { default: 5_000, min: 1, max: 60_000, perScript: true },
  memoryBytes: { default: 16 * MiB, min: 1 * MiB, max: 64 * MiB, perScript: true },
  stackBytes: { default: 256 * KiB, min: 16 * KiB, max: 1 * MiB, perScript: true },
  concurrency: { default: 5, min: 1, max: 50, perScript: false },
  executionsPerMinute: { default: 1_200, min: 1, max: 100_000, perScript: false },
  sdkCallsPerExecution: { default: 100, min: 0, max: 10_000, perScript: true },
  outboundRequestsPerMinute: { default: 60, min: 0, max: 100_000, perScript: false },
  outputBytes: { default: 1 * MiB, min: 1 * KiB, max: 10 * MiB, perScript: true },
  logBytes: { default: 64 * KiB, min: 1 * KiB, max: 1 * MiB, perScript: true },
  sourceBytes: { default: 100 * KiB, min: 1 * KiB, max: 512 * KiB, perScript: false },
  eventDepth: { default: 5, min: 0, max: 20, perScript: true },
  dbBytes: { default: 50 * MiB, min: 1 * MiB, max: 1024 * MiB, perScript: false },
} as const satisfies Record<string, LimitSpec>;

interface LimitSpec {
  default: number;
  min: number;
  max: number;
  perScript: boolean;
}


export type LimitName = keyof typeof LIMITS;
export type Limits = Record<LimitName, number>;
export const LIMIT_NAMES = Object.keys(LIMITS) as LimitName[];
export const PER_SCRIPT_LIMIT_NAMES = LIMIT_NAMES.filter((name) => LIMITS[name].perScript);

export const DEFAULT_LIMITS: Limits = Object.fromEntries(
  LIMIT_NAMES.map((name) => [name, LIMITS[name].default]),
) as Limits;

function limitValue(name: LimitName) {
  const spec = LIMITS[name];
  return z
    .number()
    .int(`${name} must be an integer`)
    .min(spec.min, `${name} must be at least ${spec.min}`)
    .max(spec.max, `${name} must be at most ${spec.max}`);
}

/** A zod object shape with one field per limit name. */
function shapeOf<T extends z.ZodType>(names: readonly LimitName[], field: (name: LimitName) => T) {
  return Object.fromEntries(names.map((name) => [name, field(name)])) as Record<LimitName, T>;
}

/**
 * A tenant's stored overrides: any subset of the limits; `null` puts a limit back to the
 * platform default. Unknown names are refused so a typo never silently does nothing.
 */
export const tenantLimitsPatch = z.strictObject(shapeOf(LIMIT_NAMES, (name) => limitValue(name).nullable().optional()));
export type TenantLimitsPatch = z.infer<typeof tenantLimitsPatch>;
export type LimitOverrides = Partial<Limits>;

/** A script's own limits: only the per-execution ones (the rest are the tenant's alone). */
export const scriptLimits = z.strictObject(shapeOf(PER_SCRIPT_LIMIT_NAMES, (name) => limitValue(name).optional()));
export type ScriptLimits = Partial<Limits>;

/** Applies a PATCH to stored overrides: given fields change, `null` removes, the rest stay. */
export function mergeOverrides(current: LimitOverrides, patch: TenantLimitsPatch): LimitOverrides {
  const next: LimitOverrides = { ...current };
  for (const name of LIMIT_NAMES) {
    const value = patch[name];
    if (value === null) delete next[name];
    else if (value !== undefined) next[name] = value;
  }
  return next;
}

/** The tenant's complete limits: its overrides over the platform defaults. */
export function tenantLimits(overrides: LimitOverrides): Limits {
  return { ...DEFAULT_LIMITS, ...overrides };
}

/**
 * The limits one execution runs under: the smaller of the tenant's and the script's, so a
 * script override never raises a limit, even after the tenant's is lowered.
 */
export function effectiveLimits(tenant: Limits, script: ScriptLimits): Limits {
  const result = { ...tenant };
  for (const name of PER_SCRIPT_LIMIT_NAMES) {
    const own = script[name];
    if (own !== undefined) result[name] = Math.min(own, tenant[name]);
  }
  return result;
}

/** Names of script limits set above the tenant's current value (refused on save). */
export function limitsAboveTenant(tenant: Limits, script: ScriptLimits) {
  return PER_SCRIPT_LIMIT_NAMES.filter((name) => {
    const own = script[name];
    return own !== undefined && own > tenant[name];
  });
}
