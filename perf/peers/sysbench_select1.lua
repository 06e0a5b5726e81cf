-- perf/peers/sysbench_select1.lua -- sysbench script: one "SELECT 1" per event
-- (text protocol), the yardstick for perf/qps.c's select1 runs.
function thread_init()
   drv = sysbench.sql.driver()
   con = drv:connect()
end

function thread_done()
   con:disconnect()
end

function event()
   con:query("SELECT 1")
end
