/**
 * QuickJS keeps the source text of every function it compiles (for `toString`), once per
 * function, nested ones included, in every realm: a guest source's comments and indentation
 * would cost heap in every warm realm. The platform's guest sources (bootstrap.ts, web/*.ts)
 * are compacted once, on the host, before QuickJS sees them: indentation and comment-only
 * lines go; every other line, and every line break (so automatic semicolon insertion is
 * unchanged), stays. Guest sources contain no template literals, so no line's content is
 * whitespace-significant; test/sandbox/source.test.ts checks that compaction keeps every
 * token of every guest source.
 */
export function compactSource(source: string): string {
  const kept: string[] = [];
  let inComment = false;
  for (const raw of source.split("\n")) {
    const line = raw.trim();
    if (inComment) {
      const end = line.indexOf("*/");
      if (end < 0) continue;
      inComment = false;
      const rest = line.slice(end + 2).trim();
      if (rest !== "") kept.push(rest);
      continue;
    }
    if (line === "" || line.startsWith("//")) continue;
    if (line.startsWith("/*")) {
      const end = line.indexOf("*/", 2);
      if (end < 0) {
        inComment = true;
        continue;
      }
      const rest = line.slice(end + 2).trim();
      if (rest !== "") kept.push(rest);
      continue;
    }
    kept.push(line);
  }
  return kept.join("\n");
}
