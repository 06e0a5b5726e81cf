select database() as db0;
use information_schema
select database() as db1;
use __TESTDB__;
select database() as db2;
select 1 as a\g select 2 as b\g
select 3 as c \c select 4 as d;
select \N as nul;
select 5 as e;
quit
select 6 as never;
