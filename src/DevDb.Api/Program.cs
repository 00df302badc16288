using DevDb.Api;

if (args is ["tokens", ..])
    return TokensCommand.Run(args[1..], Console.Out, Console.Error);

var app = DevDbApi.Build(args);
await app.RunAsync();
return 0;
