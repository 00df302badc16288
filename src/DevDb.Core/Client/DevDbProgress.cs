namespace DevDb.Core.Client;

/// <summary>A step of long work, for progress bars.</summary>
public sealed record DevDbProgress(string Activity, string Status, int? PercentComplete = null);
