using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace DevDb.Core.Tests.Engine;

/// <summary>Each error code means one thing: one factory makes it, with one category, and users can look it up.</summary>
public sealed class ErrorCodeTests
{
    private static IReadOnlyList<string> Codes() =>
        typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetValue(null)!).ToList();

    private static IEnumerable<MethodInfo> Factories() =>
        typeof(DevDbErrors).GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.ReturnType == typeof(DevDbException));

    [Fact]
    public void Every_code_has_exactly_one_factory_and_every_factory_is_a_code()
    {
        var factories = Factories().GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(Codes(), code => Assert.True(factories.TryGetValue(code, out var count) && count == 1, $"{code} has {factories.GetValueOrDefault(code)} factories"));
        Assert.Empty(factories.Keys.Except(Codes()));
    }

    [Fact]
    public void Each_factory_makes_its_own_code_with_a_message_an_action_and_the_codes_one_category()
    {
        foreach (var factory in Factories())
        {
            var error = (DevDbException)factory.Invoke(null, factory.GetParameters().Select(Sample).ToArray())!;
            Assert.Equal(factory.Name, error.Code);
            Assert.Equal(ErrorCodes.CategoryOf(factory.Name), error.Category);
            Assert.False(string.IsNullOrWhiteSpace(error.Message), factory.Name);
            Assert.False(string.IsNullOrWhiteSpace(error.RecommendedAction), $"{factory.Name} recommends nothing");
        }
    }

    [Fact]
    public void Nothing_but_the_factories_can_make_a_new_error()
    {
        Assert.DoesNotContain(typeof(DevDbException).GetConstructors(BindingFlags.Public | BindingFlags.Instance), c => true);
    }

    [Fact]
    public void Every_code_has_a_row_in_the_readme_troubleshooting_table()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "README.md"));
        var rows = Regex.Matches(readme, @"^\| `(\w+)` \|", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.All(Codes(), code => Assert.Equal(1, rows.Count(r => r == code)));
    }

    [Fact]
    public void Factories_show_only_a_short_prefix_of_a_huge_value_and_never_a_sources_credentials()
    {
        var huge = new string('x', 100_000);
        Assert.True(DevDbErrors.ProjectNotFound(huge).Message.Length < 200);
        Assert.True(DevDbErrors.NameInvalid(huge, "project name", "it is too long.", "Shorten it.").Target!.Length < 100);
        var source = DevDbErrors.SourceNotFound("https://me:hunter2@example.com/shop.dump?X-Amz-Signature=secret", "HTTP 404.");
        Assert.DoesNotContain("hunter2", source.Message + source.Target);
        Assert.DoesNotContain("secret", source.Message + source.Target);
    }

    private static object? Sample(ParameterInfo parameter) => parameter.ParameterType switch
    {
        var t when t == typeof(string) => parameter.HasDefaultValue ? parameter.DefaultValue ?? "x" : "x",
        var t when t == typeof(int) => 1,
        var t when t == typeof(bool) => parameter.HasDefaultValue ? parameter.DefaultValue : false,
        var t when t == typeof(int?) => (int?)1,
        var t when t == typeof(long?) => (long?)1L,
        var t when t == typeof(IEnumerable<string>) => new[] { "a", "b" },
        var t when t == typeof(IEnumerable<int>) => new[] { 15, 16 },
        var t when t == typeof(Exception) => null,
        var t when t == typeof(DevDb.Core.Model.Quota) => new DevDb.Core.Model.Quota { User = "dave", Limits = DevDb.Core.Model.QuotaLimits.None, DatabaseNames = ["a"] },
        var t => throw new InvalidOperationException($"No sample for {t} ({parameter.Member.Name}.{parameter.Name})"),
    };
}
