-- `make bench` workload for the SQLite shell (scripts/bench/programs.py): an in-memory database
-- filled by recursive CTEs, then indexes, joins, aggregates, a window function, updates and
-- deletes with correlated subqueries, string functions and an integrity check — the B-tree,
-- the VDBE loop, the expression evaluator and the pager, each in many small calls.
--
--   sqlite3 :memory: 'CREATE TEMP TABLE scale AS SELECT <rows> AS n' '.read workload.sql'
--
-- <rows> customers (and four times as many orders); 30000 runs about half a second with a plain
-- -O2 build. Only integers and text are printed, so every build must print the same bytes.

CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT NOT NULL, region TEXT NOT NULL, balance INTEGER NOT NULL);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER NOT NULL REFERENCES customer(id),
                    amount INTEGER NOT NULL, note TEXT);

BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < (SELECT n FROM scale))
INSERT INTO customer
  SELECT i, printf('customer-%06d', (i * 7919) % 1000003),
         char(65 + i % 7) || char(65 + (i / 7) % 5), (i * 37) % 10007
  FROM seq;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 4 * (SELECT n FROM scale))
INSERT INTO orders
  SELECT i, (i * 613) % (SELECT n FROM scale) + 1, (i * 7) % 1000,
         CASE WHEN i % 5 = 0 THEN NULL ELSE lower(hex(i * 2654435761 % 4294967296)) END
  FROM seq;
COMMIT;

CREATE INDEX orders_by_customer ON orders(customer, amount);
CREATE INDEX customer_by_region ON customer(region, balance);

SELECT 'regions', region, count(*), sum(balance), sum(balance) / count(*) FROM customer
  GROUP BY region ORDER BY sum(balance) DESC, region LIMIT 5;

SELECT 'top spenders', c.name, sum(o.amount) AS total, count(*) FROM customer c JOIN orders o ON o.customer = c.id
  GROUP BY c.id ORDER BY total DESC, c.name LIMIT 5;

SELECT 'richest per region', region, name, balance FROM (
  SELECT region, name, balance, rank() OVER (PARTITION BY region ORDER BY balance DESC, id) AS r FROM customer)
  WHERE r = 1 ORDER BY region LIMIT 8;

UPDATE customer SET balance = balance + (SELECT coalesce(sum(amount), 0) FROM orders WHERE orders.customer = customer.id)
  WHERE id % 3 = 0;
DELETE FROM orders WHERE amount < 100 OR note LIKE '%ff%';

SELECT 'orders', count(*), sum(amount), max(length(note)), count(note) FROM orders;
SELECT 'names', count(*) FROM customer WHERE name LIKE '%99%' OR name GLOB '*[0-2]7';
SELECT 'concat', length(group_concat(name, ',')), substr(group_concat(name, ','), 1, 47)
  FROM (SELECT name FROM customer ORDER BY balance DESC, id LIMIT 500);
SELECT 'without orders', count(*) FROM customer c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id);
SELECT 'distinct', count(DISTINCT amount), count(DISTINCT substr(note, 1, 2)) FROM orders;

PRAGMA integrity_check;
