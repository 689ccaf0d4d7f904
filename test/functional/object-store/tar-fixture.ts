/** Builds small ustar archives for the extract-archive tests (independent of the server's reader). */
export interface TarFile {
  name: string;
  data?: string;
  /** '0' file (default), '5' directory. */
  type?: '0' | '5';
  /** pax records written in an extended header before the entry. */
  pax?: Record<string, string>;
}

function header(name: string, size: number, type: string): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'utf8');
  b.write('0000644\0', 100, 'latin1');
  b.write('0000000\0', 108, 'latin1');
  b.write('0000000\0', 116, 'latin1');
  b.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  b.write('00000000000\0', 136, 'latin1');
  b.write('        ', 148, 'latin1');
  b.write(type, 156, 'latin1');
  b.write('ustar\0', 257, 'latin1');
  b.write('00', 263, 'latin1');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return b;
}

const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);

function paxRecords(pax: Record<string, string>): Buffer {
  const parts = Object.entries(pax).map(([k, v]) => {
    const body = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(body) + 1;
    while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
    return `${len}${body}`;
  });
  return Buffer.from(parts.join(''), 'utf8');
}

export function makeTar(files: TarFile[]): Buffer {
  const out: Buffer[] = [];
  for (const f of files) {
    if (f.pax) {
      const records = paxRecords(f.pax);
      out.push(header('PaxHeader', records.length, 'x'), records, pad(records.length));
    }
    const data = Buffer.from(f.data ?? '');
    out.push(header(f.name, data.length, f.type ?? '0'), data, pad(data.length));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}
