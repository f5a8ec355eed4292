import type { Db } from "../db/client";
import { readSecret, secretNames } from "../services/secrets";

/**
 * The tenant's secrets as its cell's scripts read them: decrypted once per change (the
 * Worker tells the cell when the tenant's secrets change) and kept in memory only.
 */
export class SecretCache {
  private values = new Map<string, Promise<string | null>>();
  private nameList: Promise<string[]> | null = null;

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

  /** The names of the tenant's secrets (a handler object's `env`), read once per change. */
  names(tenantId: string): Promise<string[]> {
    if (!this.nameList) {
      const list = secretNames(this.db(), tenantId);
      list.catch(() => {
        if (this.nameList === list) this.nameList = null;
      });
      this.nameList = list;
    }
    return this.nameList;
  }

  clear() {
    this.values = new Map();
    this.nameList = null;
  }
}
