// perf/node/stmt.js -- perf/stmt.c with Node's `mariadb` connector
// (pipelining on, its default): one connection, --depth operations in flight,
// for --seconds after --warmup. --query as perf/stmt_bench.h
// (do1 select1 rows1000 cols100 insert100); --mode:
//   text     conn.query (insert100: one INSERT of 100 rows)
//   binary   conn.prepare once, prepare.execute per operation
//   prepare  conn.prepare, execute, close per operation (prepare cache off)
//   cached   conn.execute with the prepare cache on (prepared on the first call)
//   direct   conn.execute with the prepare cache off: the connector sends the
//            prepare and the execute together (statement id -1), then a close
//   loop     insert100: prepared once, 100 prepare.execute per operation, all at once
//   bulk     insert100: conn.batch with 100 rows (COM_STMT_BULK_EXECUTE)
// Prints the CSV line of perf/bench.h (client CPU from process.cpuUsage()).
'use strict';
const mariadb = require('mariadb');
const fs = require('fs');

function serverCpu() {
  try {
    const st = fs.readFileSync('/proc/' + process.env.PERF_SERVER_PID + '/stat', 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;   // USER_HZ
  } catch (e) { return -1; }
}

const a = { depth: 1, seconds: 3, warmup: 0.5, query: 'select1', mode: 'text' };
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  a[k] = k === 'query' || k === 'mode' ? process.argv[i + 1] : Number(process.argv[i + 1]);
}
// perf/stmt_bench.h, repeated.
const BENCHES = {
  do1: { sql: 'DO 1', rows: 0 },
  select1: { sql: 'SELECT 1', rows: 1 },
  rows1000: { sql: "SELECT seq, 'abcdefghijabcdefghijabcdefghijaa' FROM seq_1_to_1000", rows: 1000 },
  cols100: { sql: 'SELECT * FROM test100', rows: 1 },
  insert100: { sql: 'INSERT INTO perfTestTextBatch(t0) VALUES (?)', rows: 0 },
};
const BATCH = 100;
const PIECES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'q', 'w', 'e', 'r', 't', 'y',
  'u', 'i', 'o', 'p', '\u{1F355}', '\u{1F680}', '\u{1F3B2}'];
let value = '';
for (let i = 0; i < 100; i++) value += PIECES[(i * 7 + 3) % PIECES.length];

const b = BENCHES[a.query];
const insert = a.query === 'insert100';
const modes = insert ? ['text', 'loop', 'bulk'] : ['text', 'binary', 'prepare', 'cached', 'direct'];
if (!b || !modes.includes(a.mode)) {
  console.error('stmt.js: --query do1|select1|rows1000|cols100 with --mode text|binary|prepare|cached|direct, ' +
    'or --query insert100 with --mode text|loop|bulk');
  process.exit(2);
}
const textSql = insert ? 'INSERT INTO perfTestTextBatch(t0) VALUES ' + Array(BATCH).fill("('" + value + "')").join(',') : b.sql;
const batchRows = Array.from({ length: BATCH }, () => [value]);

function check(res, affected) {
  if (b.rows > 0) {
    if (res.length !== b.rows) throw new Error(`${res.length} rows, expected ${b.rows}`);
  } else if (affected && Number(res.affectedRows) !== affected) {
    throw new Error(`${res.affectedRows} rows affected, expected ${affected}`);
  }
}

async function main() {
  const env = process.env;
  const conn = await mariadb.createConnection({
    host: env.MYR_TEST_HOST || '127.0.0.1', port: Number(env.MYR_TEST_PORT || 3306),
    user: env.MYR_TEST_USER || 'myr', password: env.MYR_TEST_PASSWORD || '',
    database: env.PERF_DB || 'perf', pipelining: true, charset: 'utf8mb4',
    prepareCacheLength: a.mode === 'prepare' || a.mode === 'direct' ? 0 : 256,
  });
  const prep = a.mode === 'binary' || a.mode === 'loop' ? await conn.prepare(b.sql) : null;
  const one = {
    text: async () => check(await conn.query(textSql), insert ? BATCH : 0),
    binary: async () => check(await prep.execute()),
    prepare: async () => {
      const p = await conn.prepare(b.sql);
      try { check(await p.execute()); } finally { p.close(); }
    },
    cached: async () => check(await conn.execute(b.sql)),
    direct: async () => check(await conn.execute(b.sql)),
    loop: async () => {
      const all = [];
      for (let i = 0; i < BATCH; i++) all.push(prep.execute([value]));
      for (const r of await Promise.all(all)) check(r, 1);
    },
    bulk: async () => check(await conn.batch(b.sql, batchRows), BATCH),
  }[a.mode];

  let phase = a.warmup > 0 ? 0 : 1, done = 0;
  const lat = [];
  async function worker() {
    while (phase < 2) {
      const t0 = process.hrtime.bigint();
      await one();
      if (phase === 1) { done++; lat.push(Number(process.hrtime.bigint() - t0)); }
    }
  }
  const all = [];
  for (let d = 0; d < a.depth; d++) all.push(worker());
  await new Promise(r => setTimeout(r, a.warmup * 1000));
  phase = 1;
  const c0 = process.cpuUsage(), t0 = process.hrtime.bigint(), s0 = serverCpu();
  await new Promise(r => setTimeout(r, a.seconds * 1000));
  phase = 2;
  const cpu = process.cpuUsage(c0), secs = Number(process.hrtime.bigint() - t0) / 1e9, s1 = serverCpu();
  await Promise.all(all);
  if (prep) prep.close();
  await conn.end();
  lat.sort((x, y) => x - y);
  const pct = p => lat.length ? lat[Math.min(lat.length - 1, Math.round(p / 100 * (lat.length - 1)))] / 1000 : 0;
  const q = done || 1;
  const rss = Math.round(process.resourceUsage().maxRSS);
  if (a.header) console.log('impl,mode,query,conns,depth,seconds,queries,qps,p50_us,p99_us,cpu_us_per_q,usr_us_per_q,sys_us_per_q,maxrss_kib,server_cpu_us_per_q');
  console.log(['node-mariadb', a.mode, a.query, 1, a.depth, secs.toFixed(3), done,
    (done / secs).toFixed(0), pct(50).toFixed(1), pct(99).toFixed(1), ((cpu.user + cpu.system) / q).toFixed(2),
    (cpu.user / q).toFixed(2), (cpu.system / q).toFixed(2), rss,
    s0 >= 0 && s1 >= 0 ? ((s1 - s0) * 1e6 / q).toFixed(2) : ''].join(','));
}
main().catch(e => { console.error('stmt.js:', e.message); process.exit(1); });
