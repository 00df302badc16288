using DevDb.Core.Model;
using Xunit;

namespace DevDb.Core.Tests.Engine;

public sealed class NameTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("shop")]
    [InlineData("dave-shop-2")]
    [InlineData("0day")]
    [InlineData("a23456789012345678901234567890123456789012345678901234567890123")]
    public void Dns_labels_are_valid_names(string name) => Assert.True(Names.IsValid(name));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Shop", "uppercase")]
    [InlineData("-shop", "starts or ends with '-'")]
    [InlineData("shop-", "starts or ends with '-'")]
    [InlineData("shop_db", "other than a-z")]
    [InlineData("shop.db", "other than a-z")]
    [InlineData("dåve", "other than a-z")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234", "64 characters")]
    public void Other_names_are_refused_saying_what_is_wrong(string name, string problem)
    {
        var error = Assert.Throws<DevDbException>(() => Names.Validate(name, "database"));
        Assert.Equal(ErrorCodes.NameInvalid, error.Code);
        Assert.Contains(problem, error.Message);
        Assert.Equal(name, error.Target);
    }
}
