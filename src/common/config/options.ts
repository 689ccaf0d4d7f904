/**
 * A tiny option DSL: every option carries its type, default and help text so
 * that one table drives validation, `--help`, environment overrides and the
 * generated config reference (docs/config.md).
 */
export type OptionKind = 'string' | 'integer' | 'number' | 'boolean';

interface OptionBase<K extends OptionKind, T> {
  readonly kind: K;
  readonly default: T;
  readonly help: string;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
  /** Secret options are never printed in logs or dumps. */
  readonly secret?: boolean;
}

export type StringOption = OptionBase<'string', string>;
export type OptionalStringOption = OptionBase<'string', string | null>;
export type IntegerOption = OptionBase<'integer', number>;
export type OptionalIntegerOption = OptionBase<'integer', number | null>;
export type NumberOption = OptionBase<'number', number>;
export type BooleanOption = OptionBase<'boolean', boolean>;
export type AnyOption =
  | StringOption
  | OptionalStringOption
  | IntegerOption
  | OptionalIntegerOption
  | NumberOption
  | BooleanOption;

export type Section = Readonly<Record<string, AnyOption>>;
export type Schema = Readonly<Record<string, Section>>;

export type SectionValues<S extends Section> = { -readonly [K in keyof S]: S[K]['default'] };
export type SchemaValues<S extends Schema> = { -readonly [K in keyof S]: SectionValues<S[K]> };

type Extra = Pick<AnyOption, 'min' | 'max' | 'choices' | 'secret'>;

export const opt = {
  string: (def: string, help: string, extra: Extra = {}): StringOption => ({ kind: 'string', default: def, help, ...extra }),
  optionalString: (help: string, extra: Extra = {}): OptionalStringOption => ({ kind: 'string', default: null, help, ...extra }),
  integer: (def: number, help: string, extra: Extra = {}): IntegerOption => ({ kind: 'integer', default: def, help, ...extra }),
  optionalInteger: (help: string, extra: Extra = {}): OptionalIntegerOption => ({ kind: 'integer', default: null, help, ...extra }),
  number: (def: number, help: string, extra: Extra = {}): NumberOption => ({ kind: 'number', default: def, help, ...extra }),
  boolean: (def: boolean, help: string): BooleanOption => ({ kind: 'boolean', default: def, help }),
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Coerces a raw value (from YAML, env or a flag) to the option's type, or throws ConfigError. */
export function coerceOption(path: string, option: AnyOption, raw: unknown): string | number | boolean | null {
  if (raw === null || raw === undefined || raw === '') {
    if (option.default === null) return null;
    throw new ConfigError(`${path}: a value is required`);
  }
  switch (option.kind) {
    case 'string': {
      if (typeof raw !== 'string' && typeof raw !== 'number') throw new ConfigError(`${path}: expected a string`);
      const value = String(raw);
      if (option.choices && !option.choices.includes(value)) {
        throw new ConfigError(`${path}: expected one of ${option.choices.join(', ')}, got "${value}"`);
      }
      return value;
    }
    case 'integer':
    case 'number': {
      const value = typeof raw === 'number' ? raw : Number(String(raw).trim());
      if (!Number.isFinite(value) || (option.kind === 'integer' && !Number.isInteger(value))) {
        throw new ConfigError(`${path}: expected ${option.kind === 'integer' ? 'an integer' : 'a number'}, got "${String(raw)}"`);
      }
      if (option.min !== undefined && value < option.min) throw new ConfigError(`${path}: must be >= ${option.min}`);
      if (option.max !== undefined && value > option.max) throw new ConfigError(`${path}: must be <= ${option.max}`);
      return value;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const text = String(raw).trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(text)) return true;
      if (['false', '0', 'no', 'off'].includes(text)) return false;
      throw new ConfigError(`${path}: expected true or false, got "${String(raw)}"`);
    }
  }
}
