using System.Text.Json;
using System.Text.Json.Serialization;
using DevDb.Core.Model;

namespace DevDb.Core.Engine;

/// <summary>
/// The embedded engine's settings file, <c>settings.json</c> in the state folder, for what an
/// administrator of a shared machine sets once (today: quotas). A missing file means no settings;
/// one that cannot be read is SettingInvalid, naming the file, rather than no limits at all.
/// <code>{ "quotas": { "databasesPerUser": 5, "runningDatabasesPerUser": 3, "databasesPerProject": 50, "checkpointsPerUser": 20 } }</code>
/// </summary>
public sealed record LocalSettings
{
    public const string FileName = "settings.json";

    public QuotaLimits Quotas { get; init; } = QuotaLimits.None;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        // A misspelt limit must not silently mean "no limit".
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static LocalSettings Read(string home)
    {
        var path = Path.Combine(home, FileName);
        if (!File.Exists(path)) return new LocalSettings();
        LocalSettings? settings;
        try
        {
            settings = JsonSerializer.Deserialize<LocalSettings>(File.ReadAllText(path), Json);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw DevDbErrors.SettingInvalid(path, $"DevDb's settings file {path} cannot be read: {e.Message}",
                "Fix or remove it; its shape is { \"quotas\": { \"databasesPerUser\": 5, \"runningDatabasesPerUser\": 3, \"databasesPerProject\": 50, \"checkpointsPerUser\": 20 } }.");
        }
        settings ??= new LocalSettings();
        Check(path, settings.Quotas ?? QuotaLimits.None);
        return settings with { Quotas = settings.Quotas ?? QuotaLimits.None };
    }

    /// <summary>Every limit is at least 0 (0 allows nothing, which an administrator may mean); <paramref name="where"/> names the setting's home in messages.</summary>
    public static void Check(string where, QuotaLimits limits)
    {
        foreach (var (name, value) in new[]
                 {
                     (nameof(limits.DatabasesPerUser), limits.DatabasesPerUser), (nameof(limits.RunningDatabasesPerUser), limits.RunningDatabasesPerUser),
                     (nameof(limits.DatabasesPerProject), limits.DatabasesPerProject), (nameof(limits.CheckpointsPerUser), limits.CheckpointsPerUser),
                 })
            if (value < 0)
                throw DevDbErrors.SettingInvalid(name, $"The quota {name} in {where} is {value}; a quota is a count of 0 or more.",
                    $"Set {name} to 0 or more, or leave it out for no limit.");
    }
}
