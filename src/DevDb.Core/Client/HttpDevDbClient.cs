using DevDb.Core.Model;

namespace DevDb.Core.Client;

/// <summary>Placeholder: the lead is writing the client of the DevDb API (see ApiContract).</summary>
public sealed class HttpDevDbClient
{
}
