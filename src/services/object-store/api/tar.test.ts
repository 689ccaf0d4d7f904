import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { TarError, readTar } from './tar.js';
import { MimeInvalid, iterMultipart } from './multipart.js';

function block(name: string, size: number, type: string, opts: { base256?: boolean } = {}): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100);
  if (opts.base256) {
    b[124] = 0x80;
    b.writeUInt32BE(size, 132);
  } else b.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  b.write('        ', 148, 'latin1');
  b.write(type, 156, 'latin1');
  b.write('ustar\0', 257, 'latin1');
  let sum = 0;
  for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return b;
}
const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);
const entry = (name: string, data: string, type = '0', opts: { base256?: boolean } = {}) => [block(name, Buffer.byteLength(data), type, opts), Buffer.from(data), pad(Buffer.byteLength(data))];

/** Feeds the archive in small, odd-sized chunks so entry boundaries fall inside chunks. */
function chunked(buf: Buffer, size = 97): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

async function collect(input: Readable, readBodies = true): Promise<[string, string, string][]> {
  const out: [string, string, string][] = [];
  for await (const e of readTar(input)) {
    let text = '';
    if (readBodies) for await (const c of e.body) text += String(c);
    out.push([e.name, e.kind, text]);
  }
  return out;
}

describe('tar reader', () => {
  test('regular files, directories, GNU long names, pax paths and base-256 sizes, read in odd chunks', async () => {
    const long = `${'d'.repeat(120)}/file.txt`;
    const pax = ' path=renamed/by-pax\n';
    const paxRecord = `${pax.length + 2}${pax}`;
    const tar = Buffer.concat([
      ...entry('dir/', '', '5'),
      ...entry('dir/a', 'alpha'),
      ...entry('././@LongLink', long + '\0', 'L'),
      ...entry('truncated-name', 'long one'),
      ...entry('PaxHeader', paxRecord, 'x'),
      ...entry('ignored', 'pax one'),
      ...entry('big', 'x'.repeat(1000), '0', { base256: true }),
      Buffer.alloc(1024),
    ]);
    assert.deepEqual(await collect(chunked(tar)), [
      ['dir/', 'directory', ''],
      ['dir/a', 'file', 'alpha'],
      [long, 'file', 'long one'],
      ['renamed/by-pax', 'file', 'pax one'],
      ['big', 'file', 'x'.repeat(1000)],
    ]);
  });

  test('unread entry data is skipped', async () => {
    const tar = Buffer.concat([...entry('a', 'x'.repeat(5000)), ...entry('b', 'bee'), Buffer.alloc(1024)]);
    const names: string[] = [];
    for await (const e of readTar(chunked(tar, 1000))) {
      names.push(e.name);
      if (e.name === 'b') {
        let t = '';
        for await (const c of e.body) t += String(c);
        assert.equal(t, 'bee');
      }
    }
    assert.deepEqual(names, ['a', 'b']);
  });

  test('empty input, bad checksums and truncated data are TarErrors', async () => {
    await assert.rejects(collect(Readable.from([])), (e: unknown) => e instanceof TarError && e.message === 'empty file');
    const bad = block('x', 1, '0');
    bad[0] = 0x41;
    await assert.rejects(collect(Readable.from([bad])), (e: unknown) => e instanceof TarError && e.message === 'bad checksum');
    const cut = Buffer.concat([block('x', 2000, '0'), Buffer.alloc(100)]);
    await assert.rejects(collect(Readable.from([cut])), TarError);
  });
});

describe('multipart reader', () => {
  test('parts with headers and bodies, boundary split across chunks', async () => {
    const body = '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\none\r\n--b\r\nContent-Disposition: form-data; name="f"; filename="x"\r\nContent-Type: text/plain\r\n\r\nline1\r\nline2 --b not yet\r\n--b--\r\n';
    const parts: [Record<string, string>, string][] = [];
    for await (const p of iterMultipart(chunked(Buffer.from(body), 5), 'b')) {
      let t = '';
      for await (const c of p.body) t += String(c);
      parts.push([p.headers, t]);
    }
    assert.equal(parts.length, 2);
    assert.equal(parts[0]?.[1], 'one');
    assert.equal(parts[1]?.[0]['content-type'], 'text/plain');
    assert.equal(parts[1]?.[1], 'line1\r\nline2 --b not yet');
  });

  test('a body that does not start with the boundary is MimeInvalid', async () => {
    const run = async () => {
      for await (const p of iterMultipart(Readable.from([Buffer.from('nope')]), 'b')) p.body.resume();
    };
    await assert.rejects(run(), MimeInvalid);
  });
});
