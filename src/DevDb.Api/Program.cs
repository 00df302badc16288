using DevDb.Api;
using DevDb.Api.PodTools;
using DevDb.Core;

if (args is ["tokens", ..])
    return TokensCommand.Run(args[1..], Console.Out, Console.Error);
if (args is ["fetch", ..]) return await FetchCommand.RunAsync(args[1..], Console.Out, Console.Error);
if (args is ["healthcheck", ..]) return await HealthCheckCommand.RunAsync(args[1..], Console.Out, Console.Error);

try
{
    var app = DevDbApi.Build(args);
    await app.RunAsync();
    return 0;
}
catch (DevDbException e)
{
    // A state folder or tokens file the server cannot use: say which and what to do, without a stack trace.
    Console.Error.WriteLine($"DevDb API cannot start: {e.Code}: {e.Message}");
    if (e.RecommendedAction is not null) Console.Error.WriteLine(e.RecommendedAction);
    return 1;
}
