DROP TABLE IF EXISTS __T__esj;
CREATE TABLE __T__esj (e ENUM('a','b c','', 'ü'), s SET('x','y','z'), j JSON);
INSERT INTO __T__esj VALUES ('a', 'x,z', '{"k": [1, 2.5, "s\\t", null, true]}'),
  ('b c', '', '[]'), ('', 'x,y,z', '"str\\nnl"'), ('ü', NULL, NULL), (NULL, 'y', '{"emoji": "😀", "nested": {"a": {}}}');
SELECT * FROM __T__esj;
SELECT JSON_OBJECT('a', 1, 'b', 'two\tx') AS o, JSON_ARRAY(1, NULL, 'x') AS a, JSON_EXTRACT('{"a": "q\\"x"}', '$.a') AS ex;
SELECT e + 0, s + 0 FROM __T__esj;
DROP TABLE __T__esj;
