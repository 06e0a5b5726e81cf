set sql_mode = 'ANSI_QUOTES';
select 'a\\b' as x;
select "col" from (select 1 as col) t;
set sql_mode = 'NO_BACKSLASH_ESCAPES';
select 'back\slash' as y;
set sql_mode = default;
select 'a\'b' as z;
