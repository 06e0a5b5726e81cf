-- modes: stdin N
SELECT seq, seq * 2 AS dbl, CONCAT('row', seq) AS name, IF(seq % 7 = 0, NULL, seq % 3) AS maybe FROM seq_1_to_100000;
