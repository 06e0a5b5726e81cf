delimiter ;;
select 1 as a;;
select 2 as b; select 3 as c;;
DELIMITER //
select 4 as d//select 5 as e//
select ';' as semi, '//' as slashes//
delimiter ;
select 6 as f;
