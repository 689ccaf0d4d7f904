/**
 * Messages between the main thread and a hash worker. One worker serves many sessions (one per
 * upload and algorithm group); `sid` routes replies. Data travels in SharedArrayBuffer slots that
 * the main thread reuses only after every worker reading one has acknowledged it. A slot's buffer
 * is sent with the session's first batch in it only (`buf`); later batches name the slot: posting a
 * SharedArrayBuffer costs several times a message of numbers.
 */
export type HashRequest =
  | { op: 'open'; sid: number; algos: string[] }
  | { op: 'data'; sid: number; buf?: SharedArrayBuffer; len: number; slot: number }
  | { op: 'end'; sid: number }
  | { op: 'drop'; sid: number };

export type HashReply =
  | { op: 'ack'; sid: number; slot: number }
  | { op: 'digest'; sid: number; hex: string[] }
  | { op: 'error'; sid: number; message: string };

/**
 * The worker's program, evaluated as a CommonJS script (`eval: true`): it needs no file next to the
 * code, so it runs the same from the TypeScript sources, the test runner and the dist bundle.
 * Kept to plain JavaScript that only uses node:crypto and node:worker_threads.
 */
export const HASH_WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const sessions = new Map();
parentPort.on('message', (m) => {
  try {
    if (m.op === 'open') {
      sessions.set(m.sid, { hashes: m.algos.map((algo) => createHash(algo)), slots: [] });
    } else if (m.op === 'data') {
      const session = sessions.get(m.sid);
      if (session === undefined) return;
      if (m.buf !== undefined) session.slots[m.slot] = m.buf;
      const buf = session.slots[m.slot];
      if (buf === undefined) throw new Error('no buffer for slot ' + m.slot);
      const view = new Uint8Array(buf, 0, m.len);
      for (const hash of session.hashes) hash.update(view);
      parentPort.postMessage({ op: 'ack', sid: m.sid, slot: m.slot });
    } else if (m.op === 'end') {
      const session = sessions.get(m.sid);
      sessions.delete(m.sid);
      if (session === undefined) throw new Error('unknown hash session ' + m.sid);
      parentPort.postMessage({ op: 'digest', sid: m.sid, hex: session.hashes.map((hash) => hash.digest('hex')) });
    } else if (m.op === 'drop') {
      sessions.delete(m.sid);
    }
  } catch (err) {
    sessions.delete(m.sid);
    parentPort.postMessage({ op: 'error', sid: m.sid, message: String((err && err.message) || err) });
  }
});
`;
