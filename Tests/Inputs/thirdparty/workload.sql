-- An SQL workload for the SQLite shell: 120,000 rows through recursive CTEs, indexes, joins,
-- aggregates, updates and deletes inside transactions. ThirdPartyTests appends a loop of 2,000
-- single-row inserts (the shell prepares and steps each one) and the final queries. Every result
-- is printed, so a run that went wrong anywhere prints something else.
.headers off
.mode list
PRAGMA page_size = 4096;
PRAGMA cache_size = -2048;
CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT NOT NULL, region INTEGER, balance REAL);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customer(id), amount INTEGER, note TEXT);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
INSERT INTO customer SELECT i, 'customer-' || printf('%06d', (i * 7919) % 20011), i % 17, (i * 37 % 1000) / 10.0 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO orders SELECT i, 1 + (i * 104729) % 20000, (i * 7) % 5003, hex(zeroblob(i % 5)) || printf('%03d', i % 997) || substr('abcdefghij', 1 + i % 10) FROM n;
COMMIT;
CREATE INDEX orders_by_customer ON orders(customer);
CREATE INDEX customer_by_region ON customer(region, name);
SELECT count(*), sum(amount), min(amount), max(amount) FROM orders;
SELECT region, count(*), round(avg(balance), 3), max(name) FROM customer GROUP BY region ORDER BY region;
SELECT c.region, count(o.id), sum(o.amount) FROM customer c JOIN orders o ON o.customer = c.id
 GROUP BY c.region ORDER BY 3 DESC LIMIT 5;
SELECT c.name, sum(o.amount) AS total FROM customer c JOIN orders o ON o.customer = c.id
 WHERE c.region = 3 GROUP BY c.id ORDER BY total DESC, c.name LIMIT 8;
BEGIN;
UPDATE orders SET amount = amount + 1 WHERE id % 3 = 0;
DELETE FROM orders WHERE amount % 97 = 0;
UPDATE customer SET balance = balance * 2 WHERE region IN (1, 5, 9);
COMMIT;
SELECT count(*), sum(amount) FROM orders;
SELECT length(group_concat(name, ',')) FROM (SELECT name FROM customer WHERE id % 500 = 0 ORDER BY name);
SELECT customer, count(*) FROM orders GROUP BY customer HAVING count(*) > 7 ORDER BY 2 DESC, 1 LIMIT 5;
SELECT substr(note, 1, 6), count(*) FROM orders GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 4;
CREATE TABLE log(id INTEGER PRIMARY KEY, customer INTEGER, what TEXT);
BEGIN;
