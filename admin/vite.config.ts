import { join } from "node:path";
import { defineConfig } from "vite";

const root = import.meta.dirname;

// The admin UI, built into dist/admin: the Worker serves it as static assets at `/`.
// Everything is bundled (Monaco and its workers included): nothing loads from a CDN.
export default defineConfig({
  root,
  base: "/",
  // admin/src/monaco-lean.ts imports Monaco's parts by file, past the package's exports map.
  resolve: { alias: [{ find: /^monaco-editor\/esm\//, replacement: join(root, "..", "node_modules", "monaco-editor", "esm") + "/" }] },
  build: {
    outDir: join(root, "..", "dist", "admin"),
    emptyOutDir: true,
    chunkSizeWarningLimit: 8000,
  },
  worker: { format: "es" },
});
