/**
 * Matching a tenant endpoint's path and method against its active http scripts (API.md §7).
 * Pure: the runner builds a `RouteTable` once per catalogue version and matches every
 * request against it.
 */
import { splitPath } from "../domain/triggers";

export interface Route {
  scriptId: string;
  /** The pattern as saved: `/orders/:id`, `/files/*`. */
  path: string;
  methods: readonly string[];
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

export type RouteResult = { match: RouteMatch } | { allowed: string[] } | null;

interface CompiledRoute {
  route: Route;
  segments: string[];
  wildcard: boolean;
  /** Sorts more specific patterns first: literals, then parameters, then wildcards. */
  rank: number[];
}

export class RouteTable {
  private readonly routes: CompiledRoute[];

  constructor(routes: Route[]) {
    this.routes = routes
      .map((route) => {
        const all = splitPath(route.path);
        const wildcard = all.at(-1) === "*";
        const segments = wildcard ? all.slice(0, -1) : all;
        const rank = [...segments.map((s) => (s.startsWith(":") ? 1 : 0)), ...(wildcard ? [2] : [])];
        return { route, segments, wildcard, rank };
      })
      .sort((a, b) => compareRank(a.rank, b.rank));
  }

  get size() {
    return this.routes.length;
  }

  /**
   * The most specific route for a path and method; `{allowed}` when the path matches only
   * under other methods; null when nothing matches the path.
   */
  match(method: string, path: string): RouteResult {
    const segments = splitPath(path);
    const allowed = new Set<string>();
    for (const candidate of this.routes) {
      const params = matchSegments(candidate, segments);
      if (!params) continue;
      // HEAD is served by a GET route too, as HTTP servers do.
      if (candidate.route.methods.includes(method) || (method === "HEAD" && candidate.route.methods.includes("GET"))) {
        return { match: { route: candidate.route, params } };
      }
      for (const m of candidate.route.methods) allowed.add(m);
    }
    return allowed.size > 0 ? { allowed: [...allowed] } : null;
  }
}

function matchSegments(candidate: CompiledRoute, segments: string[]): Record<string, string> | null {
  if (candidate.wildcard ? segments.length < candidate.segments.length : segments.length !== candidate.segments.length) return null;
  const params: Record<string, string> = {};
  for (const [i, pattern] of candidate.segments.entries()) {
    const segment = segments[i]!;
    if (pattern.startsWith(":")) {
      params[pattern.slice(1)] = decodeSegment(segment);
    } else if (pattern !== segment) {
      return null;
    }
  }
  if (candidate.wildcard) params["*"] = segments.slice(candidate.segments.length).map(decodeSegment).join("/");
  return params;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Position by position: a literal (0) beats a parameter (1) beats a wildcard (2), and a
 * pattern that ends (-1) beats one that goes on with a wildcard.
 */
function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? -1) - (b[i] ?? -1);
    if (difference !== 0) return difference;
  }
  return 0;
}
