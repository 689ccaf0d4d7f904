import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type Driver,
  type SqliteDialectConfig,
  type Migration,
  type MigrationProvider,
} from 'kysely';

export type DbEngine = 'sqlite' | 'postgres';

/**
 * The control-plane database. Services get a typed view with `typed<T>()`;
 * the engine is SQLite (WAL) by default and PostgreSQL when a URL is given.
 */
export class Database {
  private constructor(
    readonly engine: DbEngine,
    private readonly kysely: Kysely<unknown>,
  ) {}

  /** `url`: null or a file path for SQLite, postgres://... for PostgreSQL. */
  static open(url: string | null, sqlitePath: string, poolSize = 10): Database {
    if (url && /^postgres(ql)?:\/\//.test(url)) {
      // Loaded on first use: pg's module setup costs a SQLite deployment ~60 ms of cold start.
      const pool = async () => {
        const { default: pg } = await import('pg');
        // int8 (COUNT(*), bigint sums) comes back as a string by default; our counts fit in a double.
        pg.types.setTypeParser(20, (value: string) => Number(value));
        return new pg.Pool({ connectionString: url, max: poolSize });
      };
      return new Database('postgres', new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) }));
    }
    const file = url ?? sqlitePath;
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const sqlite = new SqliteDatabase(file);
    sqlite.pragma('journal_mode = WAL');
    // NORMAL under WAL still fsyncs at checkpoints; FULL fsyncs every commit, which is our durability promise.
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    cachePreparedStatements(sqlite);
    return new Database('sqlite', new Kysely<unknown>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) }));
  }

  /** A Kysely handle typed with one service's tables. */
  typed<T>(): Kysely<T> {
    return this.kysely as unknown as Kysely<T>;
  }

  /** Applies a service's numbered migrations; each service keeps its own bookkeeping table. */
  async migrate(service: string, migrations: Record<string, Migration>): Promise<void> {
    const provider: MigrationProvider = { getMigrations: async () => migrations };
    // Without an explicit schema Kysely finds bookkeeping tables in any schema of the database.
    const schema = this.engine === 'postgres' ? await this.currentSchema() : undefined;
    const migrator = new Migrator({
      db: this.kysely,
      provider,
      migrationTableSchema: schema,
      migrationTableName: `nubes_migrations_${service}`,
      migrationLockTableName: `nubes_migrations_${service}_lock`,
    });
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (error || failed) {
      const reason = error instanceof Error ? error.message : String(error ?? '');
      throw new Error(`migration of ${service} failed at ${failed?.migrationName ?? '?'}: ${reason}`);
    }
  }

  private async currentSchema(): Promise<string> {
    const result = await sql<{ schema: string }>`select current_schema() as schema`.execute(this.kysely);
    return result.rows[0]?.schema ?? 'public';
  }

  async close(): Promise<void> {
    await this.kysely.destroy();
  }
}

/**
 * Kysely prepares every query afresh; compiling SQL in SQLite costs more than running these
 * small queries. Statements are reusable and the driver runs one query at a time per
 * connection, so identical SQL text can share one prepared statement.
 */
function cachePreparedStatements(sqlite: SqliteDatabase.Database): void {
  const prepare = sqlite.prepare.bind(sqlite);
  const cache = new Map<string, SqliteDatabase.Statement>();
  const cached = (source: string): SqliteDatabase.Statement => {
    let statement = cache.get(source);
    if (!statement) {
      statement = prepare(source);
      // Bounded: ad-hoc SQL (e.g. IN lists of varying length) must not grow it forever.
      if (cache.size >= 1000) cache.clear();
      cache.set(source, statement);
    }
    return statement;
  };
  Object.assign(sqlite, { prepare: cached });
}

/**
 * Transactions start with BEGIN IMMEDIATE. Within one process the driver's single connection
 * serializes them anyway; but when several processes share the file (server.join), a deferred
 * BEGIN that reads and then writes fails at once with SQLITE_BUSY(_SNAPSHOT) whenever another
 * process wrote in between, which busy_timeout cannot wait out. Taking the write lock first makes
 * every read-modify-write wait its turn instead.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** Keystone-style booleans are stored as 0/1 integers on both engines so that rows read the same. */
export const toDbBool = (value: boolean): number => (value ? 1 : 0);
export const fromDbBool = (value: number | boolean | null | undefined): boolean => value === 1 || value === true;
