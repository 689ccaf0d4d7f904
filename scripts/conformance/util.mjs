#!/usr/bin/env node
// Small helpers for scripts/conformance.sh (no curl or python needed).
//
//   util.mjs free-port                     print a free TCP port on 127.0.0.1
//   util.mjs wait-health URL PID SECONDS   wait until GET URL answers 200; exit 1 if PID
//                                          exits first or SECONDS pass
import { createServer } from 'node:net';

const [cmd, ...args] = process.argv.slice(2);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

if (cmd === 'free-port') {
  const srv = createServer();
  srv.listen(0, '127.0.0.1', () => {
    const { port } = srv.address();
    srv.close(() => console.log(port));
  });
} else if (cmd === 'wait-health' && args.length === 3) {
  const [url, pidText, secondsText] = args;
  const pid = Number(pidText);
  const deadline = Date.now() + Number(secondsText) * 1000;
  let last = 'no answer';
  for (;;) {
    if (!alive(pid)) {
      console.error(`server (pid ${pid}) exited before it was ready`);
      process.exit(1);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) break;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    if (Date.now() > deadline) {
      console.error(`${url} not ready after ${secondsText}s (last: ${last})`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
} else {
  console.error('usage: util.mjs free-port | wait-health URL PID SECONDS');
  process.exit(2);
}
