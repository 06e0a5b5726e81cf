select 1 as a; select 2 as b; select 3 as c;
select
  4 as d,
  'multi;line' as e
;

select 5 as f;;;
  select 6 as g ; select 'x;y' as "h;i"
; select 7 as trailing_without_delimiter
