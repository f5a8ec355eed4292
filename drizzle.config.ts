import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes reviewed SQL migrations for D1 into migrations/.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
