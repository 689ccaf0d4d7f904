/**
 * Parser for oslo.policy check strings. Precedence matches oslo: `not` binds tightest, then
 * `and`, then `or`; parentheses group. Operators are case-insensitive words.
 *
 * Where oslo only logs a malformed check and silently denies, this parser throws: rules are
 * parsed when registered or loaded, so a typo stops startup instead of quietly locking an API.
 */
import type { Check, Operand } from './check.js';
import type { Template } from './values.js';

export class PolicyParseError extends Error {
  override readonly name = 'PolicyParseError';
  /** The check string that failed to parse. */
  readonly checkStr: string;
  /** The rule it belongs to, when the error was raised while loading named rules. */
  readonly ruleName: string | undefined;

  constructor(message: string, checkStr: string, ruleName?: string) {
    super(message);
    this.checkStr = checkStr;
    this.ruleName = ruleName;
  }
}

type Operator = 'and' | 'or' | 'not';
type Token =
  | { readonly type: '(' | ')' }
  | { readonly type: Operator; readonly text: string }
  | { readonly type: 'check'; readonly text: string; readonly check: Check };

/** Deeper nesting than this is certainly a mistake; the limit keeps recursion off the stack limit. */
const MAX_DEPTH = 64;

export function parseRule(checkStr: string): Check {
  if (typeof checkStr !== 'string') {
    throw new PolicyParseError(`a check string must be a string, got ${typeof checkStr}`, String(checkStr));
  }
  // oslo treats the empty string as "always allow" (the rule exists but restricts nothing).
  if (checkStr === '') return { kind: 'true' };
  const tokens = tokenize(checkStr);
  const parser = new Parser(tokens, checkStr);
  const check = parser.parseOr();
  parser.expectEnd();
  return check;
}

/**
 * Splits on whitespace, then peels parentheses off each word's ends, as oslo does. A check's
 * own text therefore cannot contain spaces, nor start with '(' or end with ')'.
 */
function tokenize(checkStr: string): Token[] {
  const tokens: Token[] = [];
  for (const word of checkStr.split(/\s+/)) {
    if (word === '') continue;
    let start = 0;
    let end = word.length;
    while (start < end && word[start] === '(') start++;
    while (end > start && word[end - 1] === ')') end--;
    for (let i = 0; i < start; i++) tokens.push({ type: '(' });
    if (start < end) tokens.push(wordToken(word.slice(start, end), checkStr));
    for (let i = end; i < word.length; i++) tokens.push({ type: ')' });
  }
  return tokens;
}

function wordToken(text: string, checkStr: string): Token {
  const lowered = text.toLowerCase();
  if (lowered === 'and' || lowered === 'or' || lowered === 'not') return { type: lowered, text };
  return { type: 'check', text, check: parseCheck(text, checkStr) };
}

function fail(message: string, checkStr: string): never {
  throw new PolicyParseError(`${message} in check string "${checkStr}"`, checkStr);
}

/** One `kind:match` leaf, or `@` / `!`. */
function parseCheck(text: string, checkStr: string): Check {
  if (text === '@') return { kind: 'true' };
  if (text === '!') return { kind: 'false' };
  const colon = text.indexOf(':');
  if (colon < 0) fail(`"${text}" is not a check (expected kind:match, @ or !)`, checkStr);
  const kind = text.slice(0, colon);
  const match = text.slice(colon + 1);
  if (kind === '') fail(`"${text}" has nothing before ':'`, checkStr);
  switch (kind) {
    case 'rule':
      if (match === '') fail(`"${text}" names no rule`, checkStr);
      return { kind: 'rule', source: text, name: match };
    case 'role':
      if (match === '') fail(`"${text}" names no role`, checkStr);
      return { kind: 'role', source: text, role: parseTemplate(match, checkStr) };
    case 'http':
    case 'https':
      return { kind: 'http', source: text };
    default: {
      // Quotes around the right side are an extension: oslo would compare them literally,
      // which can never match, so `field:'value'` reads as the constant the author meant.
      const right = parseTemplate(unquote(match) ?? match, checkStr);
      return { kind: 'generic', source: text, left: parseOperand(kind), right };
    }
  }
}

function unquote(text: string): string | undefined {
  if (text.length < 2) return undefined;
  const q = text[0];
  return (q === "'" || q === '"') && text[text.length - 1] === q ? text.slice(1, -1) : undefined;
}

/** oslo evaluates the left side as a Python literal first, so `'admin'` and `True` are constants. */
function parseOperand(kind: string): Operand {
  const quoted = unquote(kind);
  if (quoted !== undefined) return { type: 'literal', value: quoted };
  if (kind === 'True' || kind === 'False' || kind === 'None' || /^-?\d+(\.\d+)?$/.test(kind)) {
    return { type: 'literal', value: kind };
  }
  return { type: 'credential', path: kind };
}

/**
 * Parses Python %-format text: `%(key)s` substitutes, `%%` is a percent sign. Anything else
 * after '%' would make Python raise at enforcement time, so it is rejected here instead.
 */
function parseTemplate(source: string, checkStr: string): Template {
  const parts: (string | { key: string })[] = [];
  let literal = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c !== '%') {
      literal += c;
      continue;
    }
    const next = source[i + 1];
    if (next === '%') {
      literal += '%';
      i++;
      continue;
    }
    const close = next === '(' ? source.indexOf(')', i + 2) : -1;
    if (close < 0 || source[close + 1] !== 's') {
      fail(`"${source}" has a '%' that is not %(name)s or %%`, checkStr);
    }
    const key = source.slice(i + 2, close);
    if (key === '') fail(`"${source}" has an empty %()s substitution`, checkStr);
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push({ key });
    i = close + 1;
  }
  if (literal !== '' || parts.length === 0) parts.push(literal);
  return parts;
}

/** Recursive descent: or := and ('or' and)* ; and := not ('and' not)* ; not := 'not' not | atom. */
class Parser {
  #pos = 0;
  #depth = 0;
  readonly #tokens: readonly Token[];
  readonly #source: string;

  constructor(tokens: readonly Token[], source: string) {
    this.#tokens = tokens;
    this.#source = source;
  }

  parseOr(): Check {
    const operands = [this.#parseAnd()];
    while (this.#peek() === 'or') {
      this.#pos++;
      operands.push(this.#parseAnd());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  }

  expectEnd(): void {
    const token = this.#tokens[this.#pos];
    if (token !== undefined) fail(`unexpected ${describe(token)}`, this.#source);
  }

  #parseAnd(): Check {
    const operands = [this.#parseNot()];
    while (this.#peek() === 'and') {
      this.#pos++;
      operands.push(this.#parseNot());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  }

  #parseNot(): Check {
    if (this.#peek() !== 'not') return this.#parseAtom();
    this.#pos++;
    return this.#nested(() => ({ kind: 'not', operand: this.#parseNot() }));
  }

  #parseAtom(): Check {
    const token = this.#tokens[this.#pos];
    if (token === undefined) fail('unexpected end of rule', this.#source);
    if (token.type === 'check') {
      this.#pos++;
      return token.check;
    }
    if (token.type !== '(') fail(`unexpected ${describe(token)}`, this.#source);
    this.#pos++;
    const inner = this.#nested(() => this.parseOr());
    if (this.#peek() !== ')') {
      const next = this.#tokens[this.#pos];
      fail(next === undefined ? "missing ')'" : `expected ')' but found ${describe(next)}`, this.#source);
    }
    this.#pos++;
    return inner;
  }

  #nested(parse: () => Check): Check {
    if (++this.#depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`, this.#source);
    try {
      return parse();
    } finally {
      this.#depth--;
    }
  }

  #peek(): Token['type'] | undefined {
    return this.#tokens[this.#pos]?.type;
  }
}

function describe(token: Token): string {
  return 'text' in token ? `"${token.text}"` : `'${token.type}'`;
}
