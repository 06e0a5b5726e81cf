SELECT '😀🎉👍🏽' AS emoji, '中文字符' AS cjk, '日本語テキスト' AS jp, '한국어' AS ko, 'Ünïcödé' AS latin, 'עברית' AS he;
SELECT '😀' AS `😀`, '中' AS `中`, LENGTH('😀') AS len, CHAR_LENGTH('😀中') AS clen;
DROP TABLE IF EXISTS __T__u8;
CREATE TABLE __T__u8 (v VARCHAR(20) CHARSET utf8mb4, l VARCHAR(20) CHARSET latin1) CHARSET utf8mb4;
INSERT INTO __T__u8 VALUES ('𝄞 clef', 'café'), ('🙂🙃', 'naïve');
SELECT * FROM __T__u8;
SELECT HEX(v), UPPER(l) FROM __T__u8;
DROP TABLE __T__u8;
