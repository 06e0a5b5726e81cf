DROP PROCEDURE IF EXISTS __T__p;
DELIMITER //
CREATE PROCEDURE __T__p(n INT)
BEGIN
  SELECT n AS first;
  SELECT n + 1 AS second, 'two' AS word;
  SELECT 1 AS none WHERE 0;
  SELECT n * 10 AS third;
END//
DELIMITER ;
CALL __T__p(4);
CALL __T__p(NULL);
DELIMITER $$
DROP PROCEDURE __T__p$$
delimiter ;
select 'done' as status;
