import type { Db } from "../db/client";
import { readSecret } from "../services/secrets";

/**
 * The tenant's secrets as its cell's scripts read them: decrypted once per change (the
 * Worker tells the cell when the tenant's secrets change) and kept in memory only.
 */
export class SecretCache {
  private values = new Map<string, Promise<string | null>>();

  constructor(
    private readonly db: () => Db,
    private readonly env: () => Env,
  ) {}

  get(tenantId: string, name: string): Promise<string | null> {
    let value = this.values.get(name);
    if (!value) {
      value = readSecret(this.db(), this.env(), tenantId, name);
      value.catch(() => this.values.delete(name));
      this.values.set(name, value);
    }
    return value;
  }

  clear() {
    this.values = new Map();
  }
}
