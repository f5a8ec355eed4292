/**
 * Which scripts an event goes to (API.md §10): a subscription is an exact type
 * (`order.created`), a prefix (`order.*` matches `order.created` and `order.a.b`, not
 * `order`), or `*` for every event.
 */
export function subscribes(pattern: string, type: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

export function subscribesAny(patterns: readonly string[], type: string): boolean {
  return patterns.some((pattern) => subscribes(pattern, type));
}
