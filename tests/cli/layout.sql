-- Output layouts (-t, -E, \G, -v, -vv, -f, -q): run by test_differential.sh with each flag set.
select 1 as abcdef, 'x' as abcdef2, 2.5 as dddddd, 'héllo' as e, '日本' as j, NULL as nnnnnn, cast(null as signed) as nn, 12 as i union all select 100,'yy',3,'a','b',null,null,null;
select 1 where 0;
do 1;
create temporary table t(a int not null, b varchar(3));
insert into t values (1,'a'),(2,null);
update t set a=a+1;
select * from t;
select 'x' as y\G
select 'a	b' as tab, 'l1
l2' as nl, x'00' as nul;
select * from t\G
select nosuch;
select 3 as after_error;
ego;
