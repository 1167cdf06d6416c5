namespace ShieldCluster.Server.Serving;

/// <summary>An output a request asks for.</summary>
/// <param name="Name">The output's name.</param>
/// <param name="BinaryData">
/// The output's <c>binary_data</c> parameter (HTTP binary tensor extension): true for raw bytes after
/// the JSON header, false for JSON, null to follow the request's <c>binary_data_output</c>.
/// </param>
public sealed record RequestedOutput(string Name, bool? BinaryData = null);
