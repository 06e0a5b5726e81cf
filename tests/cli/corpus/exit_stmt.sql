select 1 as a;
exit;
select 2 as never;
