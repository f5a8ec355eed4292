import { z } from "zod";
import { placementSchema } from "./placement";
import type { Language } from "../sandbox/typescript";
import { scriptLimits } from "./limits";
import { SCRIPT_TYPES } from "./triggers";

/**
 * `active` scripts are triggered; `paused` is the tenant's own switch; `disabled` is the
 * platform admin's; `archived` is deleted-but-kept (API.md §6).
 */
export const SCRIPT_STATUSES = ["draft", "active", "paused", "disabled", "archived"] as const;
export type ScriptStatus = (typeof SCRIPT_STATUSES)[number];

/** What a script's source is written in (API.md §13); part of a version, like its trigger. */
export const LANGUAGES = ["javascript", "typescript"] as const satisfies readonly Language[];

const scriptName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1-64 letters, digits, . _ - and start with a letter or digit");
const description = z.string().max(1000);
const message = z.string().max(1000);
/** The source's size limit is the tenant's `sourceBytes` (413); this only stops absurd bodies early. */
const source = z.string();
/** `typescript` sources are stripped of their types at save (API.md §13). */
export const language = z.enum(LANGUAGES);

export const createScriptBody = z.strictObject({
  name: scriptName,
  type: z.enum(SCRIPT_TYPES),
  source,
  language: language.optional(),
  placement: placementSchema.optional(),
  description: description.optional(),
  trigger: z.unknown().optional(),
  limits: scriptLimits.optional(),
  status: z.enum(["draft", "active", "paused"]).optional(),
  message: message.optional(),
});

export const updateScriptBody = z.strictObject({
  source: source.optional(),
  language: language.optional(),
  placement: placementSchema.optional(),
  name: scriptName.optional(),
  description: description.optional(),
  trigger: z.unknown().optional(),
  limits: scriptLimits.optional(),
  message: message.optional(),
  /** Refused with a clear message rather than as an unknown field: type is fixed at creation. */
  type: z.enum(SCRIPT_TYPES).optional(),
});

export const statusBody = z.strictObject({ status: z.enum(SCRIPT_STATUSES) });

/** `type: "module"` checks the source as a module; `name` is the module's own (a cycle through it is refused). */
export const validateBody = z.strictObject({ source, language: language.optional(), type: z.enum(SCRIPT_TYPES).optional(), name: scriptName.optional() });
