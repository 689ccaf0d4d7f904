import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import bcrypt from 'bcrypt';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/**
 * Slow password hashing off the event loop (libuv thread pool). bcrypt is Keystone's
 * default, so Keystone hashes can be imported; scrypt hashes are tagged "$scrypt$".
 */
export class PasswordHasher {
  constructor(
    private readonly algorithm: 'bcrypt' | 'scrypt',
    private readonly rounds: number,
  ) {}

  async hash(password: string): Promise<string> {
    if (this.algorithm === 'bcrypt') return bcrypt.hash(password, this.rounds);
    const salt = randomBytes(16);
    const key = await scrypt(password, salt, 32, { N: 2 ** this.rounds, r: 8, p: 1, maxmem: 256 * 2 ** this.rounds * 8 * 2 });
    return `$scrypt$${this.rounds}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  async verify(password: string, stored: string): Promise<boolean> {
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
