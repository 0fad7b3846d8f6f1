INSERT INTO ${prefix}_order (id, customer, note) VALUES (1, 'ada', 'first');
INSERT INTO ${prefix}_order (id, customer, note) VALUES (2, 'bob', NULL);
INSERT INTO ${prefix}_order (id, customer, note) VALUES (3, 'cy', 'third');
