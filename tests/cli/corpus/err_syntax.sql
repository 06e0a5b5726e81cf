select 1 as ok;
select 2 as ok2;

-- a comment line

selec 3;
select 4 as never;
