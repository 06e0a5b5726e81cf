DROP PROCEDURE IF EXISTS __T__psig;
DELIMITER //
CREATE PROCEDURE __T__psig()
BEGIN
  SELECT 'first' AS r1;
  SIGNAL SQLSTATE '45123' SET MYSQL_ERRNO = 2006, MESSAGE_TEXT = 'signalled from a procedure';
END//
DELIMITER ;
CALL __T__psig();
SELECT 'not reached' AS step;
