SELECT 'a server error numbered like a client one' AS note;
SIGNAL SQLSTATE 'ZZ042' SET MYSQL_ERRNO = 2013, MESSAGE_TEXT = 'not really a lost connection';
SELECT 'not reached' AS step;
