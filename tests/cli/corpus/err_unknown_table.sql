select 'before' as b;
select * from __T__no_such_table_here;
select 'after' as a;
