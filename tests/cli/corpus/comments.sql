# hash comment
-- dash comment
--no-space at statement start is a comment too
select /* inline */ 1 as a, 2--1 as b; -- trailing
select /*! 100 */ as versioned, /*M!100000 200 */ as mversioned;
/* multi
   line ; comment */ select 3 as c;
select 4 /* x */+/* y */5 as d
  # inside
  , 6 as e;
select '/* not a comment */' as s1, "-- nor this" as s2, `# or this` from (select 1 as `# or this`) t;
select nosuch /* stripped */ from -- gone
  dual;
