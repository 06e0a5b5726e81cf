// perf/node/fairness.js -- the fairness benchmark of perf/fairness.c with
// Node's `mariadb` connector (pipelining on): --conns connections, each kept
// --depth queries deep (default 8) by refilling one query per completion on
// the same connection. After --warmup seconds it measures for --seconds and
// prints the CSV line of perf/fairness.h: QPS, completions per connection
// (min / median / max), latency from query() to the promise's resolution
// (p50 / p99 / p99.9 / max), client CPU per query (process.cpuUsage()), and
// the server's CPU per query and thread context switches per second, read
// from /proc/<pid>/task/*/status (pid: --server-pid, $PERF_SERVER_PID or
// $MYR_SANDBOX_DIR/mariadbd.pid; 0 columns when unknown). The refill column
// is empty: the connector has no such setting (it writes every query at once).
'use strict';
const mariadb = require('mariadb');
const fs = require('fs');

const a = { conns: 64, depth: 8, seconds: 5, warmup: 1, query: 'select1', serverPid: -1, header: false };
for (let i = 2; i < process.argv.length; i++) {
  const k = process.argv[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase());
  if (k === 'header') { a.header = true; continue; }
  if (!(k in a) || i + 1 >= process.argv.length) {
    console.error('usage: fairness.js [--conns N] [--depth D] [--seconds S] [--warmup S] ' +
      '[--query select1|point|SQL] [--server-pid PID] [--header]');
    process.exit(2);
  }
  a[k] = k === 'query' ? process.argv[i + 1] : Number(process.argv[i + 1]);
  i++;
}
const env = process.env;
if (a.serverPid < 0) {
  a.serverPid = 0;
  if (env.PERF_SERVER_PID) a.serverPid = Number(env.PERF_SERVER_PID);
  else if (env.MYR_SANDBOX_DIR) {
    try { a.serverPid = Number(fs.readFileSync(env.MYR_SANDBOX_DIR + '/mariadbd.pid', 'utf8').trim()) || 0; } catch (e) { /* none */ }
  }
}
const sql = () => {
  if (a.query === 'select1') return 'SELECT 1';
  if (a.query === 'point') return 'SELECT c FROM sbtest1 WHERE id=' + (1 + Math.floor(Math.random() * 10000));
  return a.query;
};

// The server's CPU seconds and its threads' context switches (summed).
function serverStats() {
  const s = { ok: false, vol: 0, invol: 0, cpu: -1 };
  if (!a.serverPid) return s;
  try {
    const st = fs.readFileSync('/proc/' + a.serverPid + '/stat', 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    s.cpu = (Number(f[11]) + Number(f[12])) / 100;   // USER_HZ
    for (const t of fs.readdirSync('/proc/' + a.serverPid + '/task')) {
      let txt;
      try { txt = fs.readFileSync('/proc/' + a.serverPid + '/task/' + t + '/status', 'utf8'); } catch (e) { continue; }
      const v = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(txt), n = /^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(txt);
      if (v) s.vol += Number(v[1]);
      if (n) s.invol += Number(n[1]);
    }
    s.ok = true;
  } catch (e) { /* the server went away */ }
  return s;
}

async function main() {
  const opts = {
    host: env.MYR_TEST_HOST || '127.0.0.1', port: Number(env.MYR_TEST_PORT || 3306),
    user: env.MYR_TEST_USER || 'myr', password: env.MYR_TEST_PASSWORD || '',
    database: env.PERF_DB || env.MYR_TEST_DB, pipelining: true,
  };
  const conns = [];
  for (let i = 0; i < a.conns; i += 64) {
    const n = Math.min(64, a.conns - i);
    conns.push(...await Promise.all(Array.from({ length: n }, () => mariadb.createConnection(opts))));
  }
  let phase = a.warmup > 0 ? 0 : 1;
  const perConn = new Array(a.conns).fill(0);
  const lat = [];
  // One chain per slot of a connection's window: each completion queues the
  // next query on the same connection, so each connection stays --depth deep.
  async function slot(c, i) {
    while (phase < 2) {
      const t0 = process.hrtime.bigint();
      const rows = await c.query(sql());
      const t1 = process.hrtime.bigint();
      if (rows.length < 1) throw new Error('no rows');
      if (phase === 1) { perConn[i]++; lat.push(Number(t1 - t0)); }
    }
  }
  const all = [];
  for (let d = 0; d < a.depth; d++) conns.forEach((c, i) => all.push(slot(c, i)));
  if (a.warmup > 0) await new Promise(r => setTimeout(r, a.warmup * 1000));
  const s0 = serverStats(), c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
  phase = 1;
  await new Promise(r => setTimeout(r, a.seconds * 1000));
  phase = 2;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9, cpu = process.cpuUsage(c0), s1 = serverStats();
  await Promise.all(all);
  await Promise.all(conns.map(c => c.end()));

  lat.sort((x, y) => x - y);
  const pct = p => lat.length ? lat[Math.min(lat.length - 1, Math.round(p / 100 * (lat.length - 1)))] / 1000 : 0;
  const counts = perConn.slice().sort((x, y) => x - y);
  const n = counts.length, cmed = n % 2 ? counts[(n - 1) / 2] : Math.floor((counts[n / 2 - 1] + counts[n / 2]) / 2);
  const done = counts.reduce((x, y) => x + y, 0), q = done || 1;
  const ok = s0.ok && s1.ok;
  if (a.header) {
    console.log('impl,mode,refill,conns,depth,seconds,queries,qps,conn_min,conn_median,conn_max,p50_us,' +
      'p99_us,p999_us,max_us,cpu_us_per_q,server_cpu_us_per_q,server_vcsw_per_s,server_ivcsw_per_s');
  }
  console.log(['node-mariadb', 'pipeline' + a.depth, '', a.conns, a.depth, secs.toFixed(3), done,
    (done / secs).toFixed(0), counts[0], cmed, counts[n - 1],
    pct(50).toFixed(1), pct(99).toFixed(1), pct(99.9).toFixed(1), pct(100).toFixed(1),
    ((cpu.user + cpu.system) / q).toFixed(2),
    (s0.cpu >= 0 && s1.cpu >= 0 ? (s1.cpu - s0.cpu) * 1e6 / q : 0).toFixed(2),
    (ok ? (s1.vol - s0.vol) / secs : 0).toFixed(0), (ok ? (s1.invol - s0.invol) / secs : 0).toFixed(0)].join(','));
}
main().catch(e => { console.error('fairness.js:', e.message); process.exit(1); });
