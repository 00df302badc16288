using DevDb.Api.Auth;
using DevDb.Core;
using DevDb.Core.Client;

namespace DevDb.Api;

/// <summary>
/// <c>DevDb.Api tokens add|list|remove</c>: manages the tokens file the server reads. The file is
/// the one the server would use (DevDb:TokensFile / DEVDB__TOKENSFILE, else &lt;Home&gt;/api-tokens.json)
/// unless <c>--file</c> names another. A running server picks changes up within a second.
/// </summary>
public static class TokensCommand
{
    public const string Usage = """
        Usage:
          DevDb.Api tokens add --user NAME --role admin|developer [--file PATH]   prints the new token once
          DevDb.Api tokens list [--file PATH]                                      users, roles, creation times
          DevDb.Api tokens remove --user NAME [--file PATH]                       removes all of the user's tokens
        """;

    public static int Run(string[] args, TextWriter output, TextWriter error, TimeProvider? clock = null)
    {
        clock ??= TimeProvider.System;
        try
        {
            if (args.Length == 0) return UsageError(error, "Name a tokens command.");
            if (args[0] is not ("add" or "list" or "remove")) return UsageError(error, $"Unknown tokens command '{args[0]}'.");
            var options = args[0] switch
            {
                "add" => CommandLineOptions.Parse(args[1..], ["user", "role", "file"], "user", "role"),
                "remove" => CommandLineOptions.Parse(args[1..], ["user", "file"], "user"),
                _ => CommandLineOptions.Parse(args[1..], ["file"]), // list
            };
            var file = options.GetValueOrDefault("file") ?? DefaultFile();
            switch (args[0])
            {
                case "add":
                    var user = options["user"];
                    var role = options["role"];
                    if (!TokenFile.IsValidUser(user))
                        throw Invalid($"'{user}' is not a valid user name: use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit.", user);
                    if (!TokenFile.IsValidRole(role))
                        throw Invalid($"'{role}' is not a role: use '{ApiRoles.Admin}' or '{ApiRoles.Developer}'.", role);
                    var tokens = TokenFile.Read(file);
                    if (tokens.FirstOrDefault(t => t.User == user && t.Role != role) is { } other)
                        throw Invalid($"User '{user}' already has tokens with the role '{other.Role}'.", user,
                            $"Remove them first (tokens remove --user {user}) to change the role.");
                    var token = TokenFile.NewToken();
                    TokenFile.Write(file, [.. tokens, new TokenEntry(user, role, TokenFile.Hash(token), clock.GetUtcNow())]);
                    output.WriteLine(token);
                    error.WriteLine($"Created a {role} token for '{user}' in {file}. It is shown this once only: store it now.");
                    return 0;
                case "list":
                    output.WriteLine($"{"USER",-24} {"ROLE",-10} CREATED");
                    foreach (var entry in TokenFile.Read(file).OrderBy(t => t.User, StringComparer.Ordinal).ThenBy(t => t.Created))
                        output.WriteLine($"{entry.User,-24} {entry.Role,-10} {entry.Created.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}");
                    return 0;
                default: // remove
                    var removed = options["user"];
                    var all = TokenFile.Read(file);
                    var kept = all.Where(t => t.User != removed).ToList();
                    if (kept.Count == all.Count)
                        throw DevDbErrors.RequestInvalid($"User '{removed}' has no token in {file}.", "List the users with 'DevDb.Api tokens list'.", removed);
                    TokenFile.Write(file, kept);
                    output.WriteLine($"Removed {all.Count - kept.Count} token(s) of '{removed}' from {file}.");
                    if (kept.Count == 0) error.WriteLine("No token is left: the server creates a new bootstrap admin token when it next starts.");
                    return 0;
            }
        }
        catch (DevDbException e)
        {
            error.WriteLine($"{e.Code}: {e.Message}");
            if (e.RecommendedAction is not null) error.WriteLine(e.RecommendedAction);
            return 1;
        }
        catch (ArgumentException e)
        {
            return UsageError(error, e.Message);
        }
    }

    /// <summary>The tokens file of a server started the same way (same appsettings.json and environment).</summary>
    private static string DefaultFile()
    {
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        var options = configuration.GetSection(DevDbApiOptions.Section).Get<DevDbApiOptions>() ?? new DevDbApiOptions();
        return options.ResolvedTokensFile;
    }

    private static DevDbException Invalid(string message, string target, string? action = null) =>
        DevDbErrors.RequestInvalid(message, action ?? "See 'DevDb.Api tokens' for the usage.", target);

    private static int UsageError(TextWriter error, string message)
    {
        error.WriteLine(message);
        error.WriteLine(Usage);
        return 2;
    }
}
