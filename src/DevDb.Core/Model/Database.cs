namespace DevDb.Core.Model;

/// <summary>Why a Stopped database was stopped.</summary>
public enum StopReason
{
    /// <summary>Someone asked (Stop-DevDbDatabase).</summary>
    Requested,
    /// <summary>DevDb stopped it: no client was connected for its <see cref="Database.IdleTimeout"/>. Start-DevDbDatabase (or the New-DevDbDatabase that made it) starts it again.</summary>
    Idle,
}

public enum DatabaseStatus
{
    /// <summary>Being cloned and started; <see cref="Client.IDevDbClient.WaitDatabaseAsync"/> waits for the outcome.</summary>
    Creating,
    Running,
    /// <summary>Stopped on purpose (Stop-DevDbDatabase): data, port and password kept.</summary>
    Stopped,
    /// <summary>Its server died while it was meant to run (a crash, a reboot); <see cref="Database.Error"/> has the log's last lines. Start it again.</summary>
    Crashed,
    /// <summary>A create that ran in the background failed; <see cref="Database.Error"/> says why. Nothing of it runs or is kept but the record.</summary>
    Failed,
    /// <summary>Going back to an image (Reset-DevDbDatabase); it is Running again when done.</summary>
    Resetting,
    /// <summary>Its server is being started.</summary>
    Starting,
    /// <summary>Its server is being stopped; data, port and password are kept.</summary>
    Stopping,
    /// <summary>Going back to a checkpoint (Restore-DevDbDatabase); it is Running again when done.</summary>
    Restoring,
}

/// <summary>
/// A running clone of an image for one owner. Carries everything needed to connect except the
/// password, which only <see cref="Client.IDevDbClient.GetConnectionAsync"/> hands out.
/// </summary>
public sealed record Database
{
    public required string Name { get; init; }
    public required string Project { get; init; }
    public required int ImageRevision { get; init; }
    public DatabaseStatus Status { get; init; }
    public required string Host { get; init; }
    public required int Port { get; init; }
    /// <summary>The database inside the server (the project's DatabaseName).</summary>
    public required string DatabaseName { get; init; }
    public required string Username { get; init; }
    public required string Owner { get; init; }
    public DateTimeOffset Created { get; init; }
    /// <summary>A branch: the database it was made from (New-DevDbDatabase -FromDatabase); a reset goes back to that data unless asked for the image.</summary>
    public string? Parent { get; init; }
    /// <summary>A branch made from a checkpoint of <see cref="Parent"/>: that checkpoint's name.</summary>
    public string? ParentCheckpoint { get; init; }
    /// <summary>
    /// When DevDb removes it (the engine's clock); null: never. Set at create (-TimeToLive,
    /// -ExpiresAt, the project's DefaultTimeToLive) and moved by Set-DevDbDatabase; a reset keeps it.
    /// </summary>
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>A protected database refuses Remove and Reset (DatabaseProtected) and is never expired or idle-stopped.</summary>
    public bool Protected { get; init; }
    /// <summary>
    /// Stop it (keeping data, port and password) after this long with no client connection; null: never.
    /// Set at create (-IdleTimeout, else the project's, else the installation's) and changed by Set-DevDbDatabase.
    /// </summary>
    public TimeSpan? IdleTimeout { get; init; }
    /// <summary>
    /// When it was last seen in use, by the engine's clock: the later of the last idle pass that saw a client
    /// connected (or one that had connected since the pass before), its create, start, reset or restore, and the
    /// last change of its IdleTimeout. Its idle time is counted from here.
    /// </summary>
    public DateTimeOffset? LastActiveAt { get; init; }
    /// <summary>Why it is Stopped (Requested or Idle); null while it is not stopped.</summary>
    public StopReason? StopReason { get; init; }
    /// <summary>
    /// Why the last operation on it failed (a create: status Failed; a reset, stop or start: the
    /// status it had), with its stable code; cleared when the next operation begins. A Crashed
    /// database's Error has its server's last log lines and no code.
    /// </summary>
    public string? Error { get; init; }
    public string? ErrorCode { get; init; }
    /// <summary>Its last changes (what, who, when, outcome), oldest first, at most <see cref="Rules.HistoryRules.Capacity"/>.</summary>
    public IReadOnlyList<HistoryEntry> History { get => _history; init => _history = HistoryList.Of(value); }
    private readonly HistoryList _history = HistoryList.Empty;
}

/// <summary>Connection details including the password. Its ToString never shows the password.</summary>
public sealed class ConnectionInfo(string host, int port, string databaseName, string username, string password)
{
    public string Host { get; } = host;
    public int Port { get; } = port;
    public string DatabaseName { get; } = databaseName;
    public string Username { get; } = username;
    public string Password { get; } = password;

    public override string ToString() => $"{Username}@{Host}:{Port}/{DatabaseName}";
}
