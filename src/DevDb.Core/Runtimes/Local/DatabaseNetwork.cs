using System.Net;

namespace DevDb.Core.Runtimes.Local;

/// <summary>
/// Where the local runtime's database servers listen, and the host name their connection details
/// give. The default keeps them on this machine (127.0.0.1). An API on a shared machine can listen
/// on one of its addresses, or all (<c>*</c>), so that engineers connect from their own machines:
/// then every address may connect, with the database's password (scram-sha-256).
/// </summary>
public sealed record DatabaseNetwork
{
    public const string AllAddresses = "*";

    /// <summary>An IP address of this machine, or <c>*</c> for all of them. Default 127.0.0.1.</summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>What clients connect to (e.g. the machine's DNS name); null: the listen address, or this machine's host name when listening on all.</summary>
    public string? Host { get; init; }

    /// <summary>True when only this machine can reach the servers: the image's own pg_hba.conf then applies unchanged.</summary>
    internal bool IsLoopbackOnly => IPAddress.TryParse(ListenAddress, out var address) && IPAddress.IsLoopback(address);

    internal string ClientHost => string.IsNullOrWhiteSpace(Host)
        ? ListenAddress == AllAddresses || IsAnyAddress ? Dns.GetHostName() : ListenAddress
        : Host;

    /// <summary>The address DevDb itself checks a new server on.</summary>
    internal string ProbeAddress => ListenAddress == AllAddresses || IsAnyAddress ? "127.0.0.1" : ListenAddress;

    private bool IsAnyAddress => IPAddress.TryParse(ListenAddress, out var address) && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any));

    /// <summary>Refuses a listen address Postgres would fail on only when a server starts.</summary>
    public DatabaseNetwork Validated()
    {
        if (ListenAddress == AllAddresses || IPAddress.TryParse(ListenAddress, out _)) return this;
        throw DevDbErrors.SettingInvalid("DevDb:DatabaseListenAddress", $"DevDb:DatabaseListenAddress '{UserInput.Shown(ListenAddress)}' is not an address for database servers to listen on.",
            "Use an IP address of this machine (e.g. 127.0.0.1, the default), or * for all of them.");
    }
}
