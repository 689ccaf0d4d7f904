import { test } from 'node:test';
import assert from 'node:assert/strict';
import { child, childrenNamed, el, escapeXml, parseXml, XmlError } from './xml.js';

test('parses the request documents S3 clients send', () => {
  const root = parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key>a &amp; b</Key></Object><Object><Key><![CDATA[<c>]]></Key><VersionId/></Object></Delete>');
  assert.equal(root.name, 'Delete');
  assert.equal(child(root, 'Quiet')?.text, 'true');
  assert.deepEqual(childrenNamed(root, 'Object').map((o) => child(o, 'Key')?.text), ['a & b', '<c>']);
  assert.equal(parseXml('<s3:A xmlns:s3="x"><s3:B>1</s3:B></s3:A>').children[0]?.name, 'B');
});

test('rejects malformed documents and DTDs', () => {
  for (const bad of ['', '<a>', '<a></b>', '<a/><b/>', 'text', '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', '<a>&unknown;</a>', '<a b></a>']) {
    assert.throws(() => parseXml(bad), XmlError, bad);
  }
});

test('escapes element text', () => {
  assert.equal(escapeXml('a<b>&"c"\u0001'), 'a&lt;b&gt;&amp;"c"&#x1;');
  assert.equal(el('Key', 'k&'), '<Key>k&amp;</Key>');
  assert.equal(el('Key', undefined), '');
});
