-- A small sample table so the stack answers questions on first start; replace with your own data.
CREATE TABLE IF NOT EXISTS bi.sales
(
    day Date,
    region LowCardinality(String),
    product LowCardinality(String),
    units UInt32,
    revenue Decimal(18, 2)
)
ENGINE = MergeTree
ORDER BY (day, region, product);

INSERT INTO bi.sales VALUES
    ('2024-01-01', 'north', 'widget', 120, 2400.00),
    ('2024-01-01', 'south', 'widget', 80, 1600.00),
    ('2024-01-02', 'north', 'gadget', 45, 3150.00),
    ('2024-01-02', 'south', 'gadget', 60, 4200.00);
