// perf/node/stream.js -- perf/stream.c with Node's `mariadb` connector: the
// same 1,000,000-row query, one mode per process (peak RSS is per process):
//   --mode stream          conn.queryStream (text rows as they arrive)
//   --mode buffered        conn.query (the whole text result first)
//   --mode stmt-stream     conn.prepare, then prepare.executeStream (binary rows)
//   --mode stmt-buffered   conn.prepare, then prepare.execute
// Every value is read once. Prints the CSV line of perf/stream.c.
'use strict';
const mariadb = require('mariadb');

const a = { rows: 1000000, mode: 'stream' };
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--header') a.header = true;
  else if (process.argv[i] === '--rows') a.rows = Number(process.argv[++i]);
  else if (process.argv[i] === '--mode') a.mode = process.argv[++i];
}
if (!['stream', 'buffered', 'stmt-stream', 'stmt-buffered'].includes(a.mode)) {
  console.error('usage: stream.js [--rows N] [--mode stream|buffered|stmt-stream|stmt-buffered] [--header]');
  process.exit(2);
}

async function main() {
  const env = process.env;
  const conn = await mariadb.createConnection({
    host: env.MYR_TEST_HOST || '127.0.0.1', port: Number(env.MYR_TEST_PORT || 3306),
    user: env.MYR_TEST_USER || 'myr', password: env.MYR_TEST_PASSWORD || '',
    database: env.PERF_DB || 'perf', rowsAsArray: true,
  });
  await conn.query('SELECT 1');
  const sql = `SELECT seq, REPEAT('x', 90) FROM seq_1_to_${a.rows}`;
  const stmt = a.mode.startsWith('stmt-');
  const prep = stmt ? await conn.prepare(sql) : null;
  let rows = 0, bytes = 0, next = 1, bad = false;
  const row = r => {
    const seq = Number(r[0]);
    if (seq !== next++) bad = true;
    bytes += String(r[0]).length + r[1].length;
    rows++;
  };
  const rss0 = process.resourceUsage().maxRSS, c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
  if (a.mode.endsWith('buffered')) {
    const res = stmt ? await prep.execute() : await conn.query(sql);
    for (const r of res) row(r);
  } else {
    const s = stmt ? prep.executeStream() : conn.queryStream(sql);
    for await (const r of s) row(r);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9, cpu = process.cpuUsage(c0);
  const rss1 = process.resourceUsage().maxRSS;
  if (prep) prep.close();
  await conn.end();
  if (rows !== a.rows || bad) {
    console.error(`stream.js: ${rows} rows (${bad ? 'out of order' : 'in order'}), expected ${a.rows}`);
    process.exit(1);
  }
  if (a.header) console.log('impl,mode,rows,mb,seconds,rows_per_s,mb_per_s,cpu_s,rss_before_kib,maxrss_kib,growth_kib');
  console.log(['node-mariadb', a.mode, rows, (bytes / 1e6).toFixed(1), secs.toFixed(3), (rows / secs).toFixed(0),
    (bytes / 1e6 / secs).toFixed(1), ((cpu.user + cpu.system) / 1e6).toFixed(3), rss0, rss1, rss1 - rss0].join(','));
}
main().catch(e => { console.error('stream.js:', e.message); process.exit(1); });
