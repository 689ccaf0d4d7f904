/**
 * Child process for the kill -9 durability test: writes a first version, then starts a second
 * upload that never finishes and reports once bytes are on disk, waiting to be killed.
 */
import { Readable } from 'node:stream';
import { createLocalCluster } from '../storage/local/cluster.js';

const root = process.argv[2]!;
// The stalled upload holds no handle of its own: keep the process alive until it is killed.
setInterval(() => undefined, 1000);
const cluster = await createLocalCluster({ root, replicas: 3, partPower: 4 });
await cluster.putContainer('AUTH_k', 'c', { set: {} }, '1700000000.00000');
await cluster.putObject('AUTH_k', 'c', 'o', Readable.from([Buffer.from('committed')], { objectMode: false }), { timestamp: '1700000001.00000', contentType: 'text/plain', headers: {}, maxSize: 1 << 30 });
let sent = 0;
const body = new Readable({
  read() {
    if (sent++ < 20) this.push(Buffer.alloc(64 * 1024, 1));
    else if (sent === 21) process.stdout.write('streaming\n'); // then stall: never push null
  },
});
await cluster.putObject('AUTH_k', 'c', 'o', body, { timestamp: '1700000002.00000', contentType: 'text/plain', headers: {}, maxSize: 1 << 30 });
process.stdout.write('finished\n');
