SELECT 'before' AS step;
SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 30001, MESSAGE_TEXT = 'custom failure 30001';
SELECT 'not reached' AS step;
