/** What a tenant key may do (API.md §2). Scopes never imply each other. */
export const SCOPES = [
  "scripts:read",
  "scripts:write",
  "scripts:execute",
  "executions:read",
  "events:publish",
  "dlq:manage",
  "secrets:manage",
] as const;

export type Scope = (typeof SCOPES)[number];
