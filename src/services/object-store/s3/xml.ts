/**
 * The little XML the S3 API needs: escaping for the documents it renders and a strict, small
 * parser for the three request bodies it reads (CreateBucketConfiguration, Delete,
 * CompleteMultipartUpload). No DTDs, no entities beyond the five predefined and numeric ones,
 * so a hostile body cannot expand or reach outside the request.
 */

/** Escapes element text (never used inside attributes, so quotes stay literal, as s3api prints ETags). */
export function escapeXml(s: string): string {
  return s.replace(/[&<>\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      default:
        // Characters XML 1.0 cannot carry at all; S3 clients never send them in keys they read back.
        return `&#x${c.charCodeAt(0).toString(16)};`;
    }
  });
}

/** `<Name>text</Name>`, or nothing for undefined. */
export function el(name: string, value: string | number | boolean | undefined | null): string {
  if (value === undefined || value === null) return '';
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export interface XmlNode {
  /** Local name, namespace prefix dropped. */
  name: string;
  children: XmlNode[];
  text: string;
}

export class XmlError extends Error {}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    const v = ENTITIES[ref];
    if (v === undefined) throw new XmlError(`unknown entity ${whole}`);
    return v;
  });
}

/** Parses a document into its root element; throws XmlError when it is not well-formed. */
export function parseXml(input: string): XmlNode {
  let i = 0;
  const src = input.replace(/^\uFEFF/, '');
  const stack: XmlNode[] = [];
  let root: XmlNode | undefined;
  const skipMisc = (): void => {
    for (;;) {
      while (i < src.length && /\s/.test(src[i] as string)) i++;
      if (src.startsWith('<?', i)) {
        const end = src.indexOf('?>', i);
        if (end < 0) throw new XmlError('unterminated processing instruction');
        i = end + 2;
      } else if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i);
        if (end < 0) throw new XmlError('unterminated comment');
        i = end + 3;
      } else if (src.startsWith('<!', i) && !src.startsWith('<![CDATA[', i)) {
        throw new XmlError('DTDs are not accepted');
      } else return;
    }
  };
  skipMisc();
  while (i < src.length) {
    if (src[i] !== '<') {
      const next = src.indexOf('<', i);
      const end = next < 0 ? src.length : next;
      const raw = src.slice(i, end);
      const top = stack[stack.length - 1];
      if (!top) {
        if (raw.trim()) throw new XmlError('text outside the root element');
      } else top.text += decodeEntities(raw);
      i = end;
      continue;
    }
    if (src.startsWith('<![CDATA[', i)) {
      const end = src.indexOf(']]>', i);
      const top = stack[stack.length - 1];
      if (end < 0 || !top) throw new XmlError('bad CDATA section');
      top.text += src.slice(i + 9, end);
      i = end + 3;
      continue;
    }
    if (src.startsWith('<!--', i) || src.startsWith('<?', i)) {
      if (stack.length === 0 && root) {
        skipMisc();
        continue;
      }
      const close = src.startsWith('<!--', i) ? '-->' : '?>';
      const end = src.indexOf(close, i);
      if (end < 0) throw new XmlError('unterminated markup');
      i = end + close.length;
      continue;
    }
    const end = src.indexOf('>', i);
    if (end < 0) throw new XmlError('unterminated tag');
    const tag = src.slice(i + 1, end);
    i = end + 1;
    if (tag.startsWith('/')) {
      const name = localName(tag.slice(1).trim());
      const open = stack.pop();
      if (!open || open.name !== name) throw new XmlError(`mismatched closing tag ${name}`);
      if (stack.length === 0) skipMisc();
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const m = /^([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*\/?$/.exec(tag);
    if (!m) throw new XmlError('malformed tag');
    const node: XmlNode = { name: localName(m[1] as string), children: [], text: '' };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(node);
    else if (root) throw new XmlError('more than one root element');
    else root = node;
    if (!selfClosing) stack.push(node);
    else if (stack.length === 0) skipMisc();
  }
  if (!root || stack.length > 0) throw new XmlError('incomplete document');
  return root;
}

function localName(qname: string): string {
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
}

export function child(node: XmlNode, name: string): XmlNode | undefined {
  return node.children.find((c) => c.name === name);
}

export function childrenNamed(node: XmlNode, name: string): XmlNode[] {
  return node.children.filter((c) => c.name === name);
}
