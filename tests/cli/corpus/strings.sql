DROP TABLE IF EXISTS __T__str;
CREATE TABLE __T__str (id INT, c CHAR(5), v VARCHAR(100), t TEXT, b BLOB, bi BINARY(4), vb VARBINARY(20), tt TINYTEXT, mt MEDIUMTEXT, lb LONGBLOB) CHARSET utf8mb4;
INSERT INTO __T__str VALUES
  (1, 'ab', 'tab\there', 'line1\nline2\r\n', 'back\\slash', 'a', 'x\0y', '', 'm', 'l'),
  (2, '', '', '', '', '', '', NULL, NULL, NULL),
  (3, 'NULL', 'null', '\\N', 0x00010203, 0x00000000, 0xDEADBEEF, ' lead', 'trail ', '\\0'),
  (4, 'é', 'quote''s "dq" `bt`', REPEAT('abc', 100), 0xFF80C0, 0x61626364, 0x090A5C00, '#', '--', '/* */');
SELECT * FROM __T__str ORDER BY id;
SELECT id, HEX(bi), LENGTH(c), CHAR_LENGTH(v) FROM __T__str ORDER BY id;
DROP TABLE __T__str;
