// perf/node/qps.js -- the small-query benchmark of perf/qps.c with Node's
// `mariadb` connector (pipelining on, its default): --conns connections,
// each keeping --depth queries in flight, for --seconds after --warmup.
// Prints the CSV line of perf/bench.h (client CPU from process.cpuUsage()).
'use strict';
const mariadb = require('mariadb');
const fs = require('fs');

// CPU seconds of the server process ($PERF_SERVER_PID), -1 if unknown.
function serverCpu() {
  try {
    const st = fs.readFileSync('/proc/' + process.env.PERF_SERVER_PID + '/stat', 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;   // USER_HZ
  } catch (e) { return -1; }
}

const a = { conns: 1, depth: 8, seconds: 3, warmup: 0.5, query: 'select1', tableSize: 10000 };
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase());
  a[k] = k === 'query' ? process.argv[i + 1] : Number(process.argv[i + 1]);
}
const env = process.env;
const sql = () => {
  if (a.query === 'select1') return 'SELECT 1';
  if (a.query === 'point') return 'SELECT c FROM sbtest1 WHERE id=' + (1 + Math.floor(Math.random() * a.tableSize));
  if (a.query === 'rows100') return "SELECT seq, seq*2, CONCAT('row',seq) FROM seq_1_to_100";
  return a.query;
};

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
  let phase = a.warmup > 0 ? 0 : 1, done = 0;
  const lat = [];
  async function worker(c) {
    while (phase < 2) {
      const t0 = process.hrtime.bigint();
      const rows = await c.query(sql());
      if (rows.length < 1) throw new Error('no rows');
      if (phase === 1) { done++; lat.push(Number(process.hrtime.bigint() - t0)); }
    }
  }
  const all = [];
  for (const c of conns) for (let d = 0; d < a.depth; d++) all.push(worker(c));
  await new Promise(r => setTimeout(r, a.warmup * 1000));
  phase = 1;
  const c0 = process.cpuUsage(), t0 = process.hrtime.bigint(), s0 = serverCpu();
  await new Promise(r => setTimeout(r, a.seconds * 1000));
  phase = 2;
  const cpu = process.cpuUsage(c0), secs = Number(process.hrtime.bigint() - t0) / 1e9, s1 = serverCpu();
  await Promise.all(all);
  await Promise.all(conns.map(c => c.end()));
  lat.sort((x, y) => x - y);
  const pct = p => lat.length ? lat[Math.min(lat.length - 1, Math.round(p / 100 * (lat.length - 1)))] / 1000 : 0;
  const q = done || 1;
  const rss = Math.round(process.resourceUsage().maxRSS);
  console.log(['node-mariadb', 'depth' + a.depth, a.query, a.conns, a.depth, secs.toFixed(3), done,
    (done / secs).toFixed(0), pct(50).toFixed(1), pct(99).toFixed(1), ((cpu.user + cpu.system) / q).toFixed(2),
    (cpu.user / q).toFixed(2), (cpu.system / q).toFixed(2), rss,
    s0 >= 0 && s1 >= 0 ? ((s1 - s0) * 1e6 / q).toFixed(2) : ''].join(','));
}
main().catch(e => { console.error('qps.js:', e.message); process.exit(1); });
