import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualSizeInspector } from './virtual-size.js';

function inspect(data: Buffer, format: string, chunk = 7): number | null {
  const inspector = new VirtualSizeInspector();
  for (let i = 0; i < data.length; i += chunk) inspector.update(data.subarray(i, i + chunk));
  return inspector.virtualSize(format);
}

test('qcow2 header gives the virtual size', () => {
  const head = Buffer.alloc(4096);
  head.writeUInt32BE(0x514649fb, 0);
  head.writeUInt32BE(3, 4);
  head.writeBigUInt64BE(1073741824n, 24);
  assert.equal(inspect(head, 'qcow2'), 1073741824);
  assert.equal(inspect(Buffer.alloc(4096), 'qcow2'), null);
});

test('raw virtual size is the data size', () => {
  assert.equal(inspect(Buffer.alloc(5000), 'raw'), 5000);
  assert.equal(inspect(Buffer.alloc(5000), 'iso'), null);
});

test('vmdk sparse header capacity is in sectors', () => {
  const head = Buffer.alloc(1024);
  head.write('KDMV', 0, 'latin1');
  head.writeBigUInt64LE(2048n, 12);
  assert.equal(inspect(head, 'vmdk'), 2048 * 512);
});

test('vhd footer at the end of a fixed disk', () => {
  const disk = Buffer.alloc(8192 + 512);
  const footer = disk.subarray(8192);
  footer.write('conectix', 0, 'latin1');
  footer.writeBigUInt64BE(8192n, 48);
  assert.equal(inspect(disk, 'vhd', 1000), 8192);
});

test('vdi header', () => {
  const head = Buffer.alloc(1024);
  head.writeUInt32LE(0xbeda107f, 64);
  head.writeBigUInt64LE(10485760n, 368);
  assert.equal(inspect(head, 'vdi'), 10485760);
});
