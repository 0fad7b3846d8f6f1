ALTER TABLE ${prefix}_order ADD COLUMN note VARCHAR(20) NULL;
CREATE INDEX ix_${prefix}_customer ON ${prefix}_order (customer);
