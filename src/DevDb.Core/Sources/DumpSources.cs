namespace DevDb.Core.Sources;

/// <summary>Turns a project's source address into the <see cref="IDumpSource"/> that reads it.</summary>
public static class DumpSources
{
    // PLACEHOLDER until the sources land.
    /// <summary>Throws SourceInvalid for an address that is none of: a path, file://, http(s)://, s3://bucket/key.</summary>
    public static IDumpSource Open(string location, DumpSourceOptions options) => throw new NotImplementedException();
}
