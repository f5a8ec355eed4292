import type { Context } from "hono";
import type { z } from "zod";
import { validate } from "./body";

/** Query parameters validated by a zod schema; a bad value is a 400 naming the parameter. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return validate(schema, c.req.query());
}
