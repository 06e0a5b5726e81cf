SELECT 'a number above 2000 that no client claims' AS note;
SIGNAL SQLSTATE 'HY123' SET MYSQL_ERRNO = 2100, MESSAGE_TEXT = 'user error 2100';
