using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Engine;

// DevDb.FaultHost <home> <operation> <name> [<project or source>]
// One engine operation, as a cmdlet or the API would run it; the test sets DEVDB_FAULT_AT to kill it at a step.
// Exit codes: 0 done, 2 a DevDb error (printed), 3 bad arguments.
if (args.Length < 3) return 3;
var (home, operation, name) = (args[0], args[1], args[2]);
var extra = args.Length > 3 ? args[3] : null;
await using var engine = DevDbEngine.OpenLocal(new LocalEngineOptions { Home = home });
try
{
    switch (operation)
    {
        case "new-project": await engine.NewProjectAsync(new NewProjectRequest { Name = name, Source = extra! }); break;
        case "update-project": await engine.UpdateProjectAsync(new UpdateProjectRequest { Name = name }); break;
        case "remove-project": await engine.RemoveProjectAsync(name, force: true); break;
        case "new-database": await engine.NewDatabaseAsync(new NewDatabaseRequest { Project = extra!, Name = name }); break;
        case "accept-database":
            // Accepted work (the API's 202): the clone runs in the background of this process.
            await engine.BeginNewDatabaseAsync(new NewDatabaseRequest { Project = extra!, Name = name });
            await engine.WaitDatabaseAsync(name);
            break;
        case "accept-project":
            await engine.BeginNewProjectAsync(new NewProjectRequest { Name = name, Source = extra! });
            await engine.WaitProjectAsync(name);
            break;
        case "reset-database": await engine.ResetDatabaseAsync(name); break;
        case "stop-database": await engine.StopDatabaseAsync(name); break;
        case "start-database": await engine.StartDatabaseAsync(name); break;
        case "remove-database": await engine.RemoveDatabaseAsync(name); break;
        case "checkpoint-database": await engine.CheckpointDatabaseAsync(name, "cp"); break;
        case "restore-database": await engine.RestoreDatabaseAsync(name, "cp"); break;
        case "branch-database": await engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "", Name = name, FromDatabase = extra! }); break;
        default: return 3;
    }
    return 0;
}
catch (DevDbException e)
{
    Console.Error.WriteLine($"{e.Code}: {e.Message}");
    return 2;
}
