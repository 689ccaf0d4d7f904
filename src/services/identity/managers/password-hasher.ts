import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import bcrypt from 'bcrypt';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

export interface VerifiedCacheOptions {
  /** How long a verified (secret, stored hash) pair is trusted without re-hashing; 0 disables. */
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

/**
 * Slow password hashing off the event loop (libuv thread pool). bcrypt is Keystone's
 * default, so Keystone hashes can be imported; scrypt hashes are tagged "$scrypt$".
 *
 * Clients such as the `openstack` CLI authenticate with a password on every command, so a
 * successful check is remembered in memory for a while: keyed by the stored hash (a password
 * change or reset makes a new one, so stale entries never match), holding only an HMAC of the
 * secret under a per-process key. Wrong passwords always take the slow path.
 */
export class PasswordHasher {
  private readonly verified = new Map<string, { mac: Buffer; expires: number }>();
  private readonly macKey = randomBytes(32);
  private readonly cache: Required<VerifiedCacheOptions>;

  constructor(
    private readonly algorithm: 'bcrypt' | 'scrypt',
    private readonly rounds: number,
    cache: VerifiedCacheOptions = { ttlMs: 0, maxEntries: 0 },
  ) {
    this.cache = { now: Date.now, ...cache };
  }

  async hash(password: string): Promise<string> {
    const stored = await this.slowHash(password);
    this.remember(password, stored);
    return stored;
  }

  async verify(password: string, stored: string): Promise<boolean> {
    if (this.isRemembered(password, stored)) return true;
    const ok = await this.slowVerify(password, stored);
    if (ok) this.remember(password, stored);
    return ok;
  }

  /** Records a pair known to match by other means (bootstrap's verified-password marker). */
  remember(password: string, stored: string): void {
    if (this.cache.ttlMs <= 0 || this.cache.maxEntries <= 0) return;
    this.verified.delete(stored);
    this.verified.set(stored, { mac: this.mac(password), expires: this.cache.now() + this.cache.ttlMs });
    // Map keeps insertion order: the first key is the least recently remembered.
    if (this.verified.size > this.cache.maxEntries) this.verified.delete(this.verified.keys().next().value as string);
  }

  private isRemembered(password: string, stored: string): boolean {
    const entry = this.verified.get(stored);
    if (!entry) return false;
    if (entry.expires <= this.cache.now()) {
      this.verified.delete(stored);
      return false;
    }
    return timingSafeEqual(entry.mac, this.mac(password));
  }

  private mac(password: string): Buffer {
    return createHmac('sha256', this.macKey).update(password).digest();
  }

  private async slowHash(password: string): Promise<string> {
    if (this.algorithm === 'bcrypt') return bcrypt.hash(password, this.rounds);
    const salt = randomBytes(16);
    const key = await scrypt(password, salt, 32, { N: 2 ** this.rounds, r: 8, p: 1, maxmem: 256 * 2 ** this.rounds * 8 * 2 });
    return `$scrypt$${this.rounds}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  private async slowVerify(password: string, stored: string): Promise<boolean> {
    if (stored.startsWith('$scrypt$')) {
      const [, , rounds, salt, key] = stored.split('$');
      const n = Number(rounds);
      const expected = Buffer.from(key, 'base64');
      const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: 2 ** n, r: 8, p: 1, maxmem: 256 * 2 ** n * 8 * 2 });
      return timingSafeEqual(actual, expected);
    }
    try {
      return await bcrypt.compare(password, stored);
    } catch {
      return false;
    }
  }
}
