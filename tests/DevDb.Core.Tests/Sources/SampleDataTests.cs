using Xunit;

namespace DevDb.Core.Tests.Sources;

/// <summary>The sample project: samples/shop.sql loads as documented, and the committed shop.dump matches it.</summary>
[Collection(DumpCollection.Name)]
public sealed class SampleDataTests(DumpFixture dumps)
{
    [Fact]
    public async Task The_sample_sql_loads_the_documented_row_counts()
    {
        foreach (var (table, rows) in DumpFixture.SampleRowCounts)
            Assert.Equal(rows.ToString(), await dumps.Postgres.QueryScalarAsync($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task The_sample_data_is_the_same_on_every_load()
    {
        // A fingerprint of every row: a change here means the generator stopped being deterministic.
        const string fingerprint = """
            SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
              SELECT c::text AS t FROM customers c UNION ALL SELECT p::text FROM products p
              UNION ALL SELECT o::text FROM orders o UNION ALL SELECT i::text FROM order_items i) rows
            """;
        const string fresh = "sample_reload";
        await dumps.Postgres.CreateDatabaseAsync(fresh);
        try
        {
            await dumps.Postgres.RunSqlFileAsync(RepoPaths.SampleSql, fresh);
            Assert.Equal(await dumps.Postgres.QueryScalarAsync(fingerprint, DumpFixture.DatabaseName),
                await dumps.Postgres.QueryScalarAsync(fingerprint, fresh));
        }
        finally
        {
            await dumps.Postgres.RunSqlAsync($"DROP DATABASE {fresh}", "postgres");
        }
    }

    [Fact]
    public async Task The_view_function_and_check_constraints_work()
    {
        var postgres = dumps.Postgres;
        Assert.Equal("1000", await postgres.QueryScalarAsync("SELECT count(*) FROM customer_order_totals"));
        Assert.Equal("t", await postgres.QueryScalarAsync(
            "SELECT order_total(1) = (SELECT sum(quantity * unit_price) FROM order_items WHERE order_id = 1) AND order_total(1) > 0"));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            postgres.RunSqlAsync("INSERT INTO products (sku, name, category, unit_price) VALUES ('X', 'Free lunch', 'Grocery', 0)"));
        Assert.Contains("products_unit_price_positive", refused.Message);
    }

    [Fact]
    public async Task The_committed_sample_dump_restores_to_the_same_data_as_the_sample_sql()
    {
        const string restored = "sample_dump_restore";
        await dumps.Postgres.CreateDatabaseAsync(restored);
        try
        {
            await dumps.Postgres.RestoreAsync(RepoPaths.SampleDump, restored);
            foreach (var (table, rows) in DumpFixture.SampleRowCounts)
                Assert.Equal(rows.ToString(), await dumps.Postgres.QueryScalarAsync($"SELECT count(*) FROM {table}", restored));
            Assert.Equal(
                await dumps.Postgres.QueryScalarAsync("SELECT sum(total_spent) FROM customer_order_totals"),
                await dumps.Postgres.QueryScalarAsync("SELECT sum(total_spent) FROM customer_order_totals", restored));
        }
        finally
        {
            await dumps.Postgres.RunSqlAsync($"DROP DATABASE {restored}", "postgres");
        }
    }
}
