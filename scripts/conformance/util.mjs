#!/usr/bin/env node
// Small helpers for scripts/conformance.sh (no curl or python needed).
//
//   util.mjs free-port                     print a free TCP port on 127.0.0.1
//   util.mjs wait-health URL PID SECONDS   wait until GET URL answers 200; exit 1 if PID
//                                          exits first or SECONDS pass
//   util.mjs register-endpoint AUTH_URL PASSWORD REGION TYPE NAME URL
//                                          as the bootstrap admin, add service TYPE/NAME to the
//                                          catalog with public/internal/admin endpoints at URL
//                                          (what DevStack does for a second Glance: image_remote)
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
} else if (cmd === 'register-endpoint' && args.length === 6) {
  const [authUrl, password, region, type, name, url] = args;
  const call = async (method, path, token, body) => {
    const res = await fetch(`${authUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status >= 300) {
      console.error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
      process.exit(1);
    }
    return res;
  };
  const domain = { id: 'default' };
  const auth = await call('POST', '/auth/tokens', null, {
    auth: {
      identity: { methods: ['password'], password: { user: { name: 'admin', domain, password } } },
      scope: { project: { name: 'admin', domain } },
    },
  });
  const token = auth.headers.get('x-subject-token');
  const { service } = await (await call('POST', '/services', token, { service: { type, name, enabled: true } })).json();
  for (const iface of ['public', 'internal', 'admin']) {
    await call('POST', '/endpoints', token, { endpoint: { service_id: service.id, interface: iface, url, region_id: region, enabled: true } });
  }
  console.log(`${type} (${name}) registered at ${url}`);
} else {
  console.error('usage: util.mjs free-port | wait-health URL PID SECONDS | register-endpoint AUTH_URL PASSWORD REGION TYPE NAME URL');
  process.exit(2);
}
