import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Key {
  /** First 16 hex digits of the key's sha256: names the key inside each ciphertext. */
  id: string;
  bytes: Buffer;
}

const FORMAT = 'v1';
const KEY_FILE = /^(\d+)\.key$/;

/**
 * Encrypts credential blobs at rest with AES-256-GCM, as Keystone's credential provider
 * does with Fernet. Keys live in <data_dir>/credential-keys/N.key (0600); the highest N
 * encrypts, every key decrypts, so a new key can be added without re-encrypting.
 * Ciphertext: "v1:<key id>:<base64 iv|tag|ciphertext>", authenticated together with the
 * credential id so a blob cannot be moved to another credential row.
 * Key material is never logged or put in error messages.
 */
export class CredentialCipher {
  private keys: Key[] | null = null;

  constructor(private readonly dir: string) {}

  encrypt(plaintext: string, credentialId: string): string {
    const key = this.primary();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
    cipher.setAAD(Buffer.from(credentialId, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${FORMAT}:${key.id}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  /** Throws Error (never CloudError) when the blob cannot be decrypted: that is a server fault. */
  decrypt(stored: string, credentialId: string): string {
    const [format, keyId, data] = stored.split(':');
    if (format !== FORMAT || !keyId || data === undefined) throw new Error('credential blob is not in a known format');
    let key = this.loaded().find((k) => k.id === keyId);
    if (!key) {
      // Another process may have added a key since we loaded.
      this.keys = null;
      key = this.loaded().find((k) => k.id === keyId);
    }
    if (!key) throw new Error(`no credential key ${keyId} in the key repository`);
    const raw = Buffer.from(data, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(credentialId, 'utf8'));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  private primary(): Key {
    const keys = this.loaded();
    if (keys.length === 0) {
      this.create();
      this.keys = null;
      return this.primary();
    }
    return keys[keys.length - 1] as Key;
  }

  private loaded(): Key[] {
    if (this.keys) return this.keys;
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      names = [];
    }
    const numbered = names.flatMap((n) => {
      const m = KEY_FILE.exec(n);
      return m ? [{ n: Number(m[1]), file: n }] : [];
    });
    numbered.sort((a, b) => a.n - b.n);
    this.keys = numbered.flatMap(({ file }) => {
      const bytes = Buffer.from(readFileSync(join(this.dir, file), 'utf8').trim(), 'base64');
      return bytes.length === 32 ? [{ id: createHash('sha256').update(bytes).digest('hex').slice(0, 16), bytes }] : [];
    });
    return this.keys;
  }

  /** First use: 0.key. 'wx' makes a concurrent creator lose cleanly; both then read the winner's key. */
  private create(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    try {
      writeFileSync(join(this.dir, '0.key'), `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
