/** Script names by id, for screens that list records by `scriptId` (archived scripts included). */
import { api, type Script } from "./api";
import { useLoad } from "./ui";

export function useScriptNames() {
  return useLoad(async () => {
    const [live, archived] = await Promise.all([
      api<{ items: Script[] }>("/api/scripts?limit=200"),
      api<{ items: Script[] }>("/api/scripts?limit=200&status=archived"),
    ]);
    return [...live.data.items, ...archived.data.items];
  }, []);
}

export function nameMap(scripts: Script[] | undefined): Map<string, string> {
  return new Map((scripts ?? []).map((s) => [s.id, s.name]));
}
