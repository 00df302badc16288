using System.Reflection;
using System.Runtime.ExceptionServices;
using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Testing;

/// <summary>
/// An in-process engine called as one user (<see cref="Actor"/>), the way the API calls it for an
/// authenticated request: every call runs with that actor. Disposing it leaves the engine alone.
/// </summary>
public class ActingClient : DispatchProxy
{
    private IDevDbClient _engine = null!;
    private Actor _actor = null!;

    public static IDevDbClient For(IDevDbClient engine, Actor actor)
    {
        var client = Create<IDevDbClient, ActingClient>();
        var proxy = (ActingClient)(object)client;
        proxy._engine = engine;
        proxy._actor = actor;
        return client;
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        if (method!.Name == nameof(IDisposable.Dispose)) return null;
        using (Actor.Use(_actor))
        {
            try
            {
                return method.Invoke(_engine, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                ExceptionDispatchInfo.Throw(e.InnerException);
                throw;
            }
        }
    }
}
